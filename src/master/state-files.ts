import fs from 'node:fs'
import { errorMessage } from '../errors.js'
import type { LogFile } from '../state/log-file.js'
import { writeMasterPid } from '../state/master-pid.js'
import { type PoolConfig, writePool } from '../state/pool-file.js'
import type { ProcessIdentity } from '../proc/process-identity.js'
import type { StatePaths } from '../state/state-dir.js'
import { type StatusFile, writeStatusFile } from '../state/status-file.js'

// A job's start or end, the autoscaler's inputs: written with the next batch, this long after.
export const JOB_STATUS_DELAY_MS = 250
// A status.json that could not be written (a full disk) is tried again this often.
export const STATUS_RETRY_MS = 1_000

const GUARDED_FILES = new Set(['master.pid', 'pool.yml', 'master.log', 'status.json'])

export interface StateFilesHost {
  // The status to write now, and the pool whose pool.yml to restore.
  status(): StatusFile
  pool(): PoolConfig
  say(line: string): void
  // Wake the master's loop: a status write is due ('tick'), or a state file went away ('state-files').
  push(event: { type: 'tick' } | { type: 'state-files' }): void
}

// The master's files in the state directory: status.json written when its content changes (at once for news
// that changes counts, in batches for job news), and master.pid, master.log, pool.yml and the directory itself
// put back from memory when something removes them.
export class StateFiles {
  private watcher?: fs.FSWatcher
  private due?: 'now' | 'later' = 'now'
  private timer?: NodeJS.Timeout
  private lastStatus?: string
  private lastWriteError?: string

  constructor(
    private readonly paths: StatePaths,
    private readonly log: LogFile,
    private readonly identity: ProcessIdentity,
    private readonly host: StateFilesHost,
  ) {}

  // News for status.json: urgent (a count changed) or not (a job started or ended).
  note(urgent: boolean): void {
    this.due = !urgent && this.due !== 'now' ? 'later' : 'now'
  }

  // Rewrites status.json if news is due now; arms the batch timer for news that can wait.
  flush(): void {
    if (this.due === 'now') {
      this.due = undefined
      clearTimeout(this.timer)
      this.timer = undefined
      this.write()
    } else if (this.due === 'later' && !this.timer) this.wakeIn(JOB_STATUS_DELAY_MS)
  }

  private wakeIn(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.host.push({ type: 'tick' })
    }, ms)
  }

  // Written when its content changed (or the file is gone); one log line per new write error.
  private write(): void {
    const status = this.host.status()
    const content = JSON.stringify({ ...status, updatedAt: undefined })
    if (content === this.lastStatus && fs.existsSync(this.paths.status)) return
    try {
      writeStatusFile(this.paths, status)
      this.lastStatus = content
      this.lastWriteError = undefined
    } catch (error) {
      this.report(`cannot write ${this.paths.status}: ${errorMessage(error)}; the pool runs on`)
      // Tried again without waiting for news: a disk with room again gets the status at once.
      if (!this.timer) this.wakeIn(STATUS_RETRY_MS)
    }
  }

  private report(message: string): void {
    if (message !== this.lastWriteError) this.host.say(message)
    this.lastWriteError = message
  }

  // Wakes the loop when a state file is removed or replaced; status.json rewrites of our own are ignored
  // unless the file is gone, so this cannot feed itself.
  watch(): void {
    try {
      this.watcher = fs.watch(this.paths.dir, (event, name) => {
        // Appends (every log line) are 'change'; only a rename or removal can take a file away.
        if (event !== 'rename') return
        if (name && !GUARDED_FILES.has(String(name))) return
        // Our own status.json rewrites end in a rename too: only its absence is news.
        if (name === 'status.json' && fs.existsSync(this.paths.status)) return
        this.host.push({ type: 'state-files' })
      })
      this.watcher.on('error', () => {
        this.close()
        this.host.push({ type: 'state-files' })
      })
    } catch {
      this.watcher = undefined
    }
  }

  close(): void {
    this.watcher?.close()
    this.watcher = undefined
  }

  // Puts back what was deleted under a running master, from its own memory: the directory, master.pid,
  // master.log and pool.yml (else `status` would say not running and a second start would begin).
  restore(): void {
    try {
      if (!fs.existsSync(this.paths.dir)) {
        fs.mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 })
        this.close()
      }
      if (!this.watcher) this.watch()
      if (!fs.existsSync(this.paths.log)) {
        this.log.reopen()
        this.host.say(`${this.paths.log} was removed: writing a new one`)
      }
      if (!fs.existsSync(this.paths.pid)) {
        writeMasterPid(this.paths, this.identity)
        this.host.say(`${this.paths.pid} was removed: restored it`)
      }
      if (!fs.existsSync(this.paths.pool)) {
        const pool = this.host.pool()
        writePool(this.paths, pool)
        this.host.say(`${this.paths.pool} was removed: restored generation ${pool.generation}`)
      }
    } catch (error) {
      this.report(
        `cannot restore the state directory ${this.paths.dir}: ${errorMessage(error)}; the pool runs on`,
      )
    }
  }

  // The last word of a master that is finishing: stopped, no workers.
  writeFinal(status: StatusFile): void {
    try {
      writeStatusFile(this.paths, { ...status, workers: [] })
    } catch {
      // The state directory may be gone; nothing is left to report to.
    }
  }
}
