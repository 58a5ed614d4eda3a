import { EXIT_FAILURE, RpdError } from '../errors.js'
import { describeExit } from '../present/outcomes.js'
import { LogReader, follow } from '../state/log-tail.js'
import { type ProcessIdentity, isAlive } from '../proc/process-identity.js'
import type { StatePaths } from '../state/state-dir.js'
import { type StatusFile, readStatusFile } from '../state/status-file.js'
import type { PoolProgress } from './progress-report.js'
import { spaceProblem } from '../state/file-errors.js'
import { masterNotResponding } from '../state/master-pid.js'
import { longLineEcho } from './log-echo.js'

// How long `start`, `scale`, `reload` and `restart` wait for the master to apply a change, unless told.
export const APPLY_TIMEOUT_MS = 60_000

export type Print = (line: string) => void

// True when the status shows `generation` applied and every worker of the formation started.
export function formationApplied(status: StatusFile, generation: number): boolean {
  if (status.generation < generation) return false
  for (const [group, count] of Object.entries(status.formation)) {
    const running = status.workers.filter((w) => w.queues === group && w.state === 'running').length
    if (running < count) return false
  }
  return true
}

// The last line the master wrote among new log lines: the reason it gives for stopping.
function lastMasterWords(lines: readonly string[], pid: number): string | undefined {
  const mine = lines.filter((line) => line.includes(` master[${pid}]: `))
  const last = mine[mine.length - 1]
  return last?.slice(last.indexOf(']: ') + 3)
}

// How many of a dead worker's last lines `start` repeats in its error.
const LAST_WORKER_LINES = 3

// The last lines a worker wrote among new log lines: usually why it died (a missing Rakefile, say).
function lastWorkerWords(lines: readonly string[], group: string, pid: number): string | undefined {
  const tag = ` ${group}[${pid}]: `
  const mine = lines
    .filter((line) => line.includes(tag))
    .map((line) => line.slice(line.indexOf(tag) + tag.length).trim())
    .filter((text) => text !== '')
  return mine.length ? mine.slice(-LAST_WORKER_LINES).join(' | ') : undefined
}

export interface WaitApplied {
  paths: StatePaths
  master: ProcessIdentity
  reader: LogReader
  print: Print
  // True when status shows what the caller waits for.
  done: (status: StatusFile) => boolean
  what: string
  timeoutMs?: number
  since?: number
  // Called with the progress each status of this master shows.
  onProgress?: (status: StatusFile) => void
}

// How many of the latest echoed lines waitForMaster keeps to quote from when something fails.
const SEEN_LINES = 1000

export type MeasureProgress = (status: StatusFile) => PoolProgress

// Follows the log, printing it, until the master's status satisfies done(); fails when the master dies,
// a worker started for the change crashes, or the timeout passes.
export async function waitForMaster(options: WaitApplied): Promise<StatusFile> {
  const seen: string[] = []
  const since = options.since ?? Date.now()
  const echo = longLineEcho()
  const outcome = await follow<StatusFile | RpdError>({
    dir: options.paths.dir,
    reader: options.reader,
    onLine: (line) => {
      const shown = echo(line)
      if (shown === undefined) return
      seen.push(shown)
      // Only the last words matter: a worker chattering for a minute must not grow this without bound.
      if (seen.length > 2 * SEEN_LINES) seen.splice(0, seen.length - SEEN_LINES)
      options.print(shown)
    },
    timeoutMs: options.timeoutMs ?? APPLY_TIMEOUT_MS,
    check: () => {
      const status = readStatusFile(options.paths)
      const current =
        status && status.pid === options.master.pid && status.startTime === options.master.startTime
      if (current) options.onProgress?.(status)
      if (current && options.done(status)) return status
      if (!isAlive(options.master)) {
        const words = lastMasterWords(seen, options.master.pid)
        return new RpdError(
          `master ${options.master.pid} exited${words ? `: ${words}` : ''}; see rpd logs`,
          EXIT_FAILURE,
          'MASTER_EXITED',
        )
      }
      const crashed = current
        ? status.workers.find(
            (w) => w.state === 'backoff' && w.lastExit && Date.parse(w.lastExit.at) >= since,
          )
        : undefined
      const halted = masterNotResponding(options.master)
      if (halted) return new RpdError(`cannot finish ${options.what}: ${halted}`, EXIT_FAILURE, 'TIMEOUT')
      // The master cannot write status.json on a full disk: waiting for it would only time out.
      const full = spaceProblem(options.paths.dir)
      if (full) return new RpdError(`cannot finish ${options.what}: ${full}`, EXIT_FAILURE, 'NO_SPACE')
      const stuck = current ? status.workers.find((w) => w.state === 'backoff' && w.problem) : undefined
      if (stuck)
        return new RpdError(
          `cannot start a worker for ${stuck.queues} while ${options.what}: ${stuck.problem}`,
          EXIT_FAILURE,
          'WORKER_FAILED',
        )
      if (crashed) {
        const words = lastWorkerWords(seen, crashed.queues, crashed.pid)
        return new RpdError(
          `a worker for ${crashed.queues} exited (${describeExit(crashed.lastExit)}) while ${options.what}${words ? `, last saying: ${words}` : ''}; the pool keeps retrying with backoff: see rpd logs, fix the command, or rpd stop`,
          EXIT_FAILURE,
          'WORKER_FAILED',
        )
      }
      return undefined
    },
  })
  if (outcome.result instanceof RpdError) throw outcome.result
  if (outcome.timedOut || !outcome.result)
    throw new RpdError(
      `timed out while ${options.what}; the master ${options.master.pid} is still working: see rpd status`,
      EXIT_FAILURE,
      'TIMEOUT',
    )
  return outcome.result
}
