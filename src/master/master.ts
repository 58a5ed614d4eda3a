import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import { errorMessage } from '../errors.js'
import { type Formation, type FormationSpec, formatFormation } from '../state/formation.js'
import { LineBuffer } from '../state/line-buffer.js'
import type { LogFile } from '../state/log-file.js'
import { removeMasterPid, writeMasterPid } from '../state/master-pid.js'
import { type PoolConfig, readPool, writePool } from '../state/pool-file.js'
import {
  type ProcessIdentity,
  catchesSignal,
  identityOf,
  readCmdline,
  readProcStat,
  signalGroup,
} from '../proc/process-identity.js'
import { planReconcile } from './reconcile.js'
import os from 'node:os'
import { MasterMetrics } from './metrics.js'
import { masterTitle } from '../paths.js'
import { formatWorkerId } from '../resque/keys.js'
import { busyFromTitle } from '../resque/process-title.js'
import { shortSignal } from '../proc/signals.js'
import type { StatePaths } from '../state/state-dir.js'
import {
  type JobInfo,
  type StatusFile,
  type WorkerExit,
  type WorkerState,
  writeStatusFile,
} from '../state/status-file.js'
import { isWorkerMessage, type WorkerMessage } from '../state/worker-messages.js'
import { workerArgv } from './worker-command.js'
import { Autoscaler } from './autoscaler.js'
import { type Observation, Observer } from './observer.js'
import { type Limits, compileLimits, scheduledSpec } from '../autoscale/limits-config.js'
import { spawnAllowance } from '../autoscale/budget.js'
import { formatWindow } from '../autoscale/schedule.js'
import { type GroupView, Governor } from './governor.js'
import { type HostObservation, HostObserver } from './host-observer.js'
import { autoscaleKnobs } from '../state/pool-file.js'
import type { FleetMember, FleetNews } from './fleet-member.js'
import { environmentFor } from '../state/resque-pool-config.js'
import { type MasterOptions, openMasterLog } from './foreground.js'
import { QuietWatch, hasCommandWorkerStarted, nextStartCheckAt } from './command-started.js'
import { workingDirProblem } from '../state/working-dir.js'

export { WORKER_SETTLE_MS } from './command-started.js'
export const BACKOFF_MIN_MS = 100
export const BACKOFF_MAX_MS = 30_000
// A worker that ran at least this long before dying is respawned at once, its backoff reset.
export const STABLE_AFTER_MS = 10_000
// How long a dead worker's pipes may stay open (held by a grandchild) before it is reaped anyway.
export const OUTPUT_DRAIN_MS = 100
// Busy/idle changes of built-in workers reach status.json within this delay, batched (a drain of many
// short jobs would otherwise rewrite the file for every job).
export const JOB_STATUS_DELAY_MS = 250
// A status.json that could not be written (a full disk) is tried again this often.
export const STATUS_RETRY_MS = 1_000
// A failed Redis cleanup of a dead worker is tried again this many times, waiting up to this long between.
export const PRUNE_ATTEMPTS = 10
export const PRUNE_RETRY_MAX_MS = 60_000
// How long a stopping master waits for Redis cleanups of workers it reaped.
export const CLEANUP_WAIT_MS = 5_000
// Fast shutdown: TERM, then KILL of what is left after this grace.
export const FAST_GRACE_MS = 10_000
// While the pool is paused, command workers that do not handle USR2 yet (still booting) are looked at again
// after a tenth of the time they have been waiting, within these bounds: soon after a pause or a spawn, rarely
// for a worker that never handles USR2.
export const PAUSE_CHECK_MIN_MS = 50
export const PAUSE_CHECK_MAX_MS = 1_000

// Never fires in practice; it only holds the event loop open while the master sleeps.
const KEEP_ALIVE_MS = 2 ** 31 - 1

const HOSTNAME = os.hostname()
// For tests of schedules only: the master's clock for time-of-day windows runs this far ahead of the real one.
const CLOCK_OFFSET_MS = Number(process.env.RPD_CLOCK_OFFSET_MS) || 0
const clockNow = () => Date.now() + CLOCK_OFFSET_MS

const GUARDED_FILES = new Set(['master.pid', 'pool.yml', 'master.log', 'status.json'])

type ShutdownLevel = 'graceful' | 'fast' | 'kill'

type MasterEvent =
  | { type: 'signal'; signal: NodeJS.Signals }
  | { type: 'exit'; slot: Slot; child: ChildProcess; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'message'; slot: Slot; child: ChildProcess; message: WorkerMessage }
  | { type: 'tick' }
  | { type: 'pause-check' }
  | { type: 'state-files' }
  | { type: 'observation'; observation: Observation }
  | { type: 'host'; observation: HostObservation }
  | { type: 'fleet'; news: FleetNews }

// One place in the formation: it keeps its restart count and backoff across the processes that fill it.
export interface Slot {
  id: number
  group: string
  epoch: number
  state: WorkerState
  child?: ChildProcess
  identity?: ProcessIdentity
  startedAt: Date
  restarts: number
  backoffMs: number
  nextAttemptAt?: Date
  lastExit: WorkerExit | null
  // Set once the slot is asked to stop: it goes away when its process does.
  retiring: boolean
  job: JobInfo | null
  ready: boolean
  paused: boolean
  // USR2 has reached this process since the pool was last paused.
  pauseSent: boolean
  // Why the last attempt could not start a process (its working directory gone, say); cleared by a start.
  problem?: string
}

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2', 'SIGCONT']
const HANDLED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP',
  'SIGQUIT',
  'SIGINT',
  'SIGTERM',
  ...FORWARDED_SIGNALS,
]

// The pool master: one loop owns all state. Signal handlers and child events only queue an event and wake it.
export class Master {
  readonly pid = process.pid
  private pool: PoolConfig
  private readonly log: LogFile
  private readonly slots: Slot[] = []
  private nextSlotId = 1
  private readonly events: MasterEvent[] = []
  private wakeLoop?: () => void
  private shutdown?: ShutdownLevel
  private paused = false
  private pausedAt = 0
  private pauseTimer?: NodeJS.Timeout
  private readonly startedAt = new Date()
  private readonly identity: ProcessIdentity
  private readonly argv: ReturnType<typeof workerArgv>
  private readonly quietWatch: QuietWatch
  private watcher?: fs.FSWatcher
  private statusDue?: 'now' | 'later' = 'now'
  private passNeeded = true
  private statusTimer?: NodeJS.Timeout
  private wakeTimer?: NodeJS.Timeout
  private wakeAt = 0
  private title = ''
  private readonly cleanups = new Set<Promise<void>>()
  private lastStatus?: string
  private lastWriteError?: string
  // Sizes the automatic groups (images=0..8) from the observer's samples of their queues.
  private readonly autoscaler: Autoscaler
  private observer?: Observer
  // Guards, the worker budget and schedules: pool.yml's limits, compiled, and what they hold back now.
  private limits: Limits
  private readonly governor: Governor
  private hostObserver?: HostObserver
  // The formation in force: pool.yml's, with the active schedule windows' entries in place.
  private spec: FormationSpec & { active: number[]; nextChangeAt: number | null }
  readonly metrics = new MasterMetrics()
  // Membership of a fleet (pool.yml fleet:): its groups run at this master's share of the fleet formation.
  // Its code (and Redis client) is loaded by run(), only for a member.
  private fleet?: FleetMember

  constructor(
    private readonly paths: StatePaths,
    pool: PoolConfig,
    private readonly options: MasterOptions = {},
  ) {
    this.pool = pool
    this.log = openMasterLog(paths.log, options, pool.logFormat)
    this.identity = identityOf(process.pid) ?? { pid: process.pid, startTime: '0' }
    this.argv = workerArgv(pool)
    this.quietWatch = new QuietWatch(this.argv.file.endsWith('setpriv') ? this.argv.file : undefined)
    this.autoscaler = new Autoscaler((line) => this.say(line))
    this.governor = new Governor((line) => this.say(line))
    this.limits = compileLimits(pool)
    this.governor.configure(this.limits)
    this.spec = scheduledSpec(pool, this.limits, clockNow())
    this.autoscaler.configure({ ...pool, ...this.spec })
  }

  say(text: string): void {
    this.log.write('master', this.pid, [text])
  }

  async run(): Promise<void> {
    // Signal handlers do not keep Node's loop alive: with no workers and no timers the master would just exit.
    const keepAlive = setInterval(() => undefined, KEEP_ALIVE_MS)
    for (const signal of HANDLED_SIGNALS) process.on(signal, () => this.push({ type: 'signal', signal }))
    writeMasterPid(this.paths, this.identity)
    this.watchStateDir()
    this.say(`started manager (generation ${this.pool.generation}) in ${this.pool.cwd}`)
    if (this.pool.fleet) {
      const { FleetMember } = await import('./fleet-member.js')
      this.fleet = new FleetMember(
        this.pool.fleet,
        this.pool,
        (news) => this.push({ type: 'fleet', news }),
        (line) => this.say(line),
      )
    }
    await this.metrics.serve(
      this.pool.metrics,
      () => this.statusFile('running'),
      (text) => this.say(text),
    )
    for (;;) {
      // A job starting or ending changes no slot's place in the formation: no reconcile for it.
      if (this.passNeeded) {
        this.passNeeded = false
        this.promoteSettled()
        this.reconcile()
        this.deliverPause()
        this.schedulePauseCheck()
        this.scheduleWake()
        this.setTitle()
        this.observe()
      }
      this.flushStatus()
      if (this.shutdown && this.slots.length === 0) break
      await this.nextEvents()
      for (let event = this.events.shift(); event; event = this.events.shift()) this.handle(event)
    }
    // Workers killed during shutdown are still being removed from Redis: let that finish (within reason).
    if (this.cleanups.size) {
      await Promise.race([
        Promise.allSettled(this.cleanups),
        new Promise((resolve) => setTimeout(resolve, CLEANUP_WAIT_MS)),
      ])
    }
    await this.fleet?.stop()
    clearInterval(keepAlive)
    this.observer?.stop()
    this.hostObserver?.stop()
    this.stopPauseChecks()
    this.watcher?.close()
    await this.metrics.close()
    this.finish()
  }

  private push(event: MasterEvent): void {
    this.events.push(event)
    this.wakeLoop?.()
  }

  private nextEvents(): Promise<void> {
    if (this.events.length > 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.wakeLoop = () => {
        this.wakeLoop = undefined
        resolve()
      }
    })
  }

  private handle(event: MasterEvent): void {
    // Looking for booting workers that now handle USR2 changes nothing status.json shows: no pass, no write.
    if (event.type === 'pause-check') {
      this.pauseTimer = undefined
      this.deliverPause()
      this.schedulePauseCheck()
      return
    }
    // A job starting or ending is news for `status` but not urgent: such changes are written in batches,
    // as are the autoscaler's inputs of each sample (a sample that changes a count makes a pass itself).
    const jobNews =
      (event.type === 'message' && (event.message.type === 'busy' || event.message.type === 'idle')) ||
      event.type === 'observation' ||
      event.type === 'host' ||
      event.type === 'fleet'
    this.statusDue = jobNews && this.statusDue !== 'now' ? 'later' : 'now'
    if (!jobNews) this.passNeeded = true
    switch (event.type) {
      case 'signal':
        return this.handleSignal(event.signal)
      case 'exit':
        return this.reap(event.slot, event.child, event.code, event.signal)
      case 'message':
        return this.handleMessage(event.slot, event.child, event.message)
      case 'state-files':
        return this.restoreStateFiles()
      case 'observation':
        return this.handleObservation(event.observation)
      case 'host':
        return this.handleHost(event.observation)
      case 'tick':
        return this.followSchedule()
      case 'fleet':
        if (this.fleet?.handle(event.news)) this.passNeeded = true
        return
    }
  }

  private handleSignal(signal: NodeJS.Signals): void {
    const name = shortSignal(signal)
    if (signal === 'SIGHUP') {
      this.say('HUP: reloading pool.yml and reopening master.log')
      this.reopenLog()
      this.reload()
    } else if (signal === 'SIGUSR2') {
      this.paused = true
      this.pausedAt = Date.now()
      this.stopPauseChecks()
      for (const slot of this.slots) slot.pauseSent = false
      const { sent, waiting } = this.deliverPause()
      this.say(
        `USR2: forwarding to ${sent} workers${waiting ? `; ${waiting} not handling USR2 yet get it once they do` : ''}`,
      )
    } else if (signal === 'SIGCONT') {
      // CONT ends no process, whatever it handles: every worker gets it.
      this.paused = false
      this.stopPauseChecks()
      const targets = this.liveSlots()
      this.say(`CONT: forwarding to ${targets.length} workers`)
      for (const slot of targets) this.signalWorker(slot, signal)
    } else if (FORWARDED_SIGNALS.includes(signal)) {
      const live = this.liveSlots()
      const targets = live.filter((slot) => this.takes(slot, signal))
      const skipped = live.length - targets.length
      this.say(
        `${name}: forwarding to ${targets.length} workers${skipped ? `; not to ${skipped} not handling ${name} yet` : ''}`,
      )
      for (const slot of targets) this.signalWorker(slot, signal)
    } else if (!this.shutdown) {
      const level: ShutdownLevel = signal === 'SIGTERM' && !this.options.foreground ? 'fast' : 'graceful'
      this.say(
        level === 'graceful'
          ? `${name}: graceful shutdown, sending ${shortSignal(this.pool.stopSignal)} to ${this.liveSlots().length} workers`
          : `${name}: fast shutdown, sending TERM to ${this.liveSlots().length} workers`,
      )
      this.beginShutdown(level)
    } else {
      this.say(`${name}: escalating shutdown`)
      this.escalate()
    }
  }

  private reopenLog(): void {
    try {
      this.log.reopen()
    } catch (error) {
      this.say(`HUP: cannot reopen ${this.paths.log}: ${errorMessage(error)}; still writing to the old file`)
    }
  }

  private reload(): void {
    try {
      const pool = readPool(this.paths)
      if (!pool) throw new Error(`${this.paths.pool} is missing`)
      if (pool.generation !== this.pool.generation) this.say(`HUP: applying generation ${pool.generation}`)
      const limits = compileLimits(pool)
      this.pool = { ...pool, command: this.pool.command, jobs: this.pool.jobs, stopSignal: pool.stopSignal }
      this.limits = limits
      this.governor.configure(limits)
      this.spec = scheduledSpec(this.pool, limits, clockNow())
      this.autoscaler.configure({ ...this.pool, ...this.spec }, this.runningCounts())
    } catch (error) {
      this.say(`HUP: ${errorMessage(error)}; keeping generation ${this.pool.generation}`)
    }
  }

  private beginShutdown(level: ShutdownLevel): void {
    this.shutdown = level
    for (const slot of [...this.slots]) {
      if (!slot.child) this.dropSlot(slot)
      else this.retire(slot, level === 'graceful' ? this.pool.stopSignal : 'SIGTERM')
    }
    if (level === 'fast') this.scheduleEscalation()
  }

  private scheduleEscalation(): void {
    setTimeout(() => this.push({ type: 'signal', signal: 'SIGTERM' }), FAST_GRACE_MS).unref()
  }

  private escalate(): void {
    if (this.shutdown === 'graceful') {
      this.shutdown = 'fast'
      for (const slot of this.liveSlots()) this.signalGroupOf(slot, 'SIGTERM')
      this.scheduleEscalation()
    } else {
      this.shutdown = 'kill'
      for (const slot of this.liveSlots()) this.signalGroupOf(slot, 'SIGKILL')
    }
  }

  private liveSlots(): Slot[] {
    return this.slots.filter((slot) => slot.child)
  }

  // Compares the running slots with the desired formation and acts on the difference.
  private reconcile(): void {
    if (this.shutdown) return
    const now = Date.now()
    const desired = this.desiredFormation()
    this.metrics.noteFormation(desired)
    const plan = planReconcile(
      desired,
      this.pool.restartEpochs,
      this.slots,
      (slot) => this.busyOf(slot),
      (group) => this.autoscaler.isAutomatic(group),
    )
    for (const slot of plan.drop) this.dropSlot(slot)
    for (const slot of plan.stop) {
      this.say(
        `${slot.epoch < (this.pool.restartEpochs[slot.group] ?? 0) ? 'restart' : 'scale'}: stopping worker[${slot.child?.pid}] queues: ${slot.group} (${shortSignal(this.pool.stopSignal)})`,
      )
      this.retire(slot, this.pool.stopSignal)
    }
    for (const { group, epoch } of this.withinBudget(plan.spawn)) {
      const slot: Slot = {
        id: this.nextSlotId++,
        group,
        epoch,
        state: 'starting',
        startedAt: new Date(),
        restarts: 0,
        backoffMs: 0,
        lastExit: null,
        retiring: false,
        job: null,
        ready: false,
        paused: false,
        pauseSent: false,
      }
      this.slots.push(slot)
      this.spawnWorker(slot)
    }
    for (const slot of this.slots) {
      if (slot.state === 'backoff' && !slot.retiring && (slot.nextAttemptAt?.getTime() ?? 0) <= now)
        this.spawnWorker(slot)
    }
  }

  private spawnWorker(slot: Slot): void {
    const env: NodeJS.ProcessEnv = {
      ...environmentFor(process.env, this.pool.environment),
      QUEUE: slot.group,
      QUEUES: slot.group,
      RPD_MASTER_PID: String(this.pid),
      RPD_STATE_DIR: this.paths.dir,
    }
    if (this.pool.redis) env.REDIS_URL = this.pool.redis
    if (this.pool.jobs) env.RPD_JOBS = this.pool.jobs
    if (this.pool.namespace) env.RPD_NAMESPACE = this.pool.namespace
    if (this.pool.interval) env.INTERVAL = String(this.pool.interval)
    slot.state = 'starting'
    slot.startedAt = new Date()
    slot.nextAttemptAt = undefined
    slot.ready = false
    slot.job = null
    slot.paused = false
    slot.pauseSent = false
    const problem = workingDirProblem(this.pool.cwd)
    if (problem) return this.cannotSpawn(slot, problem)
    let child: ChildProcess
    try {
      child = spawn(this.argv.file, this.argv.args, {
        cwd: this.pool.cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe', ...(this.argv.ipc ? ['ipc' as const] : [])],
      })
    } catch (error) {
      return this.cannotSpawn(slot, errorMessage(error))
    }
    const pid = child.pid
    if (pid === undefined) {
      // Node reports the reason a moment later; a directory removed since the check is the usual one.
      child.on('error', (error) => {
        slot.problem = workingDirProblem(this.pool.cwd) ?? errorMessage(error)
        this.say(`cannot spawn worker for ${slot.group}: ${slot.problem}`)
      })
      this.backOff(slot, null, null)
      return
    }
    slot.problem = undefined
    slot.child = child
    slot.identity = { pid, startTime: readProcStat(pid)?.startTime ?? '0' }
    // Reap only once the worker's last words are in the log (or a grandchild keeps its pipes open too long).
    let open = 2
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    const report = () => {
      if (!exit) return
      this.push({ type: 'exit', slot, child, ...exit })
      exit = undefined
    }
    this.pipeOutput(slot.group, pid, child, () => --open === 0 && report())
    child.on('error', (error) => this.say(`worker[${pid}] ${slot.group}: ${errorMessage(error)}`))
    child.on('exit', (code, signal) => {
      exit = { code, signal }
      if (open === 0) report()
      else setTimeout(report, OUTPUT_DRAIN_MS)
    })
    child.on('message', (message) => {
      if (isWorkerMessage(message)) this.push({ type: 'message', slot, child, message })
    })
  }

  // Said once per slot and reason (a slot retries with backoff), and shown by status until a start succeeds.
  private cannotSpawn(slot: Slot, problem: string): void {
    if (slot.problem !== problem) this.say(`cannot spawn worker for ${slot.group}: ${problem}`)
    slot.problem = problem
    this.backOff(slot, null, null)
  }

  private pipeOutput(source: string, pid: number, child: ChildProcess, onClosed: () => void): void {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) {
        onClosed()
        continue
      }
      const lines = new LineBuffer()
      stream.on('data', (chunk: Buffer) => this.log.write(source, pid, lines.push(chunk)))
      stream.on('close', () => {
        this.log.write(source, pid, lines.flush())
        onClosed()
      })
      stream.on('error', () => undefined)
    }
  }

  // Keeps one timer armed for the earliest deadline a slot waits on (a settle time, a backoff respawn).
  // Re-armed every pass, so a timer that fires a little early only leads to another pass, never to a stall.
  private scheduleWake(): void {
    let next = Infinity
    for (const slot of this.slots) {
      if (slot.state === 'backoff' && !slot.retiring && slot.nextAttemptAt)
        next = Math.min(next, slot.nextAttemptAt.getTime())
      if (slot.state === 'starting' && slot.child && !this.argv.ipc)
        next = Math.min(next, nextStartCheckAt(this.pool.command, slot.startedAt.getTime(), Date.now()))
    }
    // A schedule edge is on the test clock (RPD_CLOCK_OFFSET_MS); the timer runs on the real one.
    if (this.spec.nextChangeAt !== null) next = Math.min(next, this.spec.nextChangeAt - CLOCK_OFFSET_MS)
    if (next === Infinity || (this.wakeTimer && this.wakeAt <= next)) return
    clearTimeout(this.wakeTimer)
    this.wakeAt = next
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined
        this.push({ type: 'tick' })
      },
      Math.max(0, next - Date.now()) + 1,
    )
  }

  // A paused pool pauses each worker as soon as it can take USR2, whose default action would end a worker still
  // booting (a Rails app loading, say): built-in workers once ready, command workers once they handle USR2.
  private deliverPause(): { sent: number; waiting: number } {
    let sent = 0
    let waiting = 0
    if (!this.paused) return { sent, waiting }
    for (const slot of this.liveSlots()) {
      if (slot.pauseSent) continue
      if (this.takes(slot, 'SIGUSR2')) {
        this.signalWorker(slot, 'SIGUSR2')
        slot.pauseSent = true
        sent += 1
      } else waiting += 1
    }
    return { sent, waiting }
  }

  // Built-in workers say when they are ready; command workers are looked at until they handle USR2, less often
  // the longer they keep not handling it (a pool of commands that never do would otherwise cost a core).
  private schedulePauseCheck(): void {
    if (this.pauseTimer || !this.paused || this.argv.ipc || this.shutdown) return
    const waiting = this.liveSlots().filter((slot) => !slot.pauseSent)
    if (waiting.length === 0) return
    const since = Math.max(this.pausedAt, ...waiting.map((slot) => slot.startedAt.getTime()))
    const delay = Math.min(PAUSE_CHECK_MAX_MS, Math.max(PAUSE_CHECK_MIN_MS, (Date.now() - since) / 10))
    this.pauseTimer = setTimeout(() => this.push({ type: 'pause-check' }), delay)
  }

  private stopPauseChecks(): void {
    clearTimeout(this.pauseTimer)
    this.pauseTimer = undefined
  }

  // Whether a worker can be sent USR1/USR2 without ending it. Built-in workers handle them once ready.
  private takes(slot: Slot, signal: NodeJS.Signals): boolean {
    if (this.argv.ipc) return slot.ready
    return slot.child?.pid !== undefined && catchesSignal(slot.child.pid, signal) !== false
  }

  // Command workers become running once they outlive the settle time, or sooner once quiet (command-started.ts).
  private promoteSettled(): void {
    const now = Date.now()
    for (const slot of this.slots) {
      if (
        slot.state === 'starting' &&
        slot.child &&
        !this.argv.ipc &&
        hasCommandWorkerStarted(
          this.pool.command,
          slot.child.pid ?? 0,
          now - slot.startedAt.getTime(),
          this.quietWatch,
          now,
        )
      ) {
        slot.state = 'running'
      }
    }
  }

  private handleMessage(slot: Slot, child: ChildProcess, message: WorkerMessage): void {
    if (slot.child !== child) return
    switch (message.type) {
      case 'ready':
        slot.ready = true
        if (slot.state === 'starting') slot.state = 'running'
        return
      case 'busy':
        slot.job = message.job
        return
      case 'idle':
        slot.job = null
        return
      case 'paused':
        slot.paused = message.paused
        return
    }
  }

  private reap(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const pid = child.pid ?? 0
    // Whatever the worker left in its process group goes with it.
    signalGroup(pid, 'SIGKILL')
    if (this.argv.ipc && this.pool.redis && (!slot.retiring || code !== 0))
      this.pruneFromRedis(pid, slot.group)
    if (slot.child !== child) return
    slot.child = undefined
    slot.job = null
    const status = signal ? `signal ${shortSignal(signal)}` : `status: ${code}`
    if (slot.retiring) {
      this.say(`Reaped worker[${pid}] (${status}) queues: ${slot.group}`)
      this.dropSlot(slot)
      return
    }
    this.backOff(slot, code, signal)
    const delay = slot.backoffMs ? `; respawning in ${formatDelay(slot.backoffMs)}` : '; respawning'
    this.say(`worker[${pid}] exited unexpectedly (${status}) queues: ${slot.group}${delay}`)
  }

  // A built-in worker that died without unregistering would stay in Redis as a ghost with its job in progress:
  // remove it and fail the job now, as Resque's pruning would. Loaded lazily: pools without Redis never load ioredis.
  // Redis may be away when the worker dies: then the cleanup is retried with growing delay while the master runs.
  private pruneFromRedis(pid: number, group: string, attempt = 1): void {
    const dead = { redisUrl: this.pool.redis!, namespace: this.pool.namespace, pid, group }
    const cleanup = import('../resque/prune-worker.js')
      .then(({ pruneDeadWorker }) => pruneDeadWorker(dead))
      .then((note) => void (note && this.say(note)))
      .catch((error) => {
        const retry = attempt < PRUNE_ATTEMPTS && !this.shutdown
        this.say(
          `cannot remove worker[${pid}] from Redis: ${errorMessage(error)}${retry ? '; will retry' : ''}`,
        )
        if (retry)
          setTimeout(
            () => this.pruneFromRedis(pid, group, attempt + 1),
            Math.min(PRUNE_RETRY_MAX_MS, 500 * 2 ** attempt),
          ).unref()
      })
      .finally(() => this.cleanups.delete(cleanup))
    this.cleanups.add(cleanup)
  }

  // A worker that dies young waits longer each time before its next start; one that ran a while starts again at once.
  private backOff(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const uptime = Date.now() - slot.startedAt.getTime()
    slot.child = undefined
    slot.lastExit = { code, signal, at: new Date().toISOString() }
    slot.restarts += 1
    this.metrics.countRestart(slot.group)
    slot.backoffMs =
      uptime >= STABLE_AFTER_MS ? 0 : Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, slot.backoffMs * 2))
    slot.state = 'backoff'
    slot.nextAttemptAt = new Date(Date.now() + slot.backoffMs)
  }

  private retire(slot: Slot, signal: NodeJS.Signals | string): void {
    if (slot.retiring && slot.state === 'stopping') return
    slot.retiring = true
    if (!slot.child) return this.dropSlot(slot)
    slot.state = 'stopping'
    this.signalWorker(slot, signal as NodeJS.Signals)
  }

  private dropSlot(slot: Slot): void {
    const at = this.slots.indexOf(slot)
    if (at >= 0) this.slots.splice(at, 1)
  }

  // Signals for one worker go to its pid: a Resque worker's forked job child must not get a graceful QUIT.
  private signalWorker(slot: Slot, signal: NodeJS.Signals): void {
    const pid = slot.child?.pid
    if (pid === undefined) return
    try {
      process.kill(pid, signal)
    } catch {
      // Already gone: its exit event is on the way.
    }
  }

  private signalGroupOf(slot: Slot, signal: NodeJS.Signals): void {
    const pid = slot.child?.pid
    if (pid !== undefined) signalGroup(pid, signal)
  }

  private statusFile(state: StatusFile['state']): StatusFile {
    return {
      pid: this.pid,
      startTime: this.identity.startTime,
      app: this.pool.app,
      cwd: this.pool.cwd,
      startedAt: this.startedAt.toISOString(),
      updatedAt: new Date().toISOString(),
      state,
      generation: this.pool.generation,
      formation: this.desiredFormation(),
      paused: this.paused,
      redis: this.pool.redis,
      namespace: this.pool.namespace,
      // A slot that never got a process is listed too (pid 0), with the reason it has none.
      workers: this.slots.map((slot) => ({
        slot: slot.id,
        pid: slot.identity?.pid ?? 0,
        startTime: slot.identity?.startTime ?? '0',
        queues: slot.group,
        state: slot.state,
        startedAt: slot.startedAt.toISOString(),
        restarts: slot.restarts,
        epoch: slot.epoch,
        lastExit: slot.lastExit,
        ...(slot.nextAttemptAt && slot.state === 'backoff'
          ? { nextAttemptAt: slot.nextAttemptAt.toISOString() }
          : {}),
        ...(slot.problem && !slot.child ? { problem: slot.problem } : {}),
        ...(this.argv.ipc ? { job: slot.job, paused: slot.paused } : {}),
      })),
      ...(this.autoscaler.active ? { autoscale: this.autoscaler.report() } : {}),
      ...(this.governor.active ? { guards: this.governor.report() } : {}),
      ...(this.limits.windows.length
        ? {
            schedule: {
              timezone: this.limits.timezone,
              windows: this.limits.windows.map(formatWindow),
              active: this.spec.active,
              nextChangeAt:
                this.spec.nextChangeAt === null ? null : new Date(this.spec.nextChangeAt).toISOString(),
            },
          }
        : {}),
      counters: this.metrics.counters(),
      ...(this.fleet ? { fleet: this.fleet.report() } : {}),
    }
  }

  // Rewrites status.json when its content changed (or the file is gone); one log line per new write error.
  private flushStatus(): void {
    if (this.statusDue === 'now') {
      this.statusDue = undefined
      clearTimeout(this.statusTimer)
      this.statusTimer = undefined
      this.writeStatus()
    } else if (this.statusDue === 'later' && !this.statusTimer) {
      this.statusTimer = setTimeout(() => {
        this.statusTimer = undefined
        this.push({ type: 'tick' })
      }, JOB_STATUS_DELAY_MS)
    }
  }

  private writeStatus(): void {
    const status = this.statusFile(this.shutdown ? 'stopping' : 'running')
    const content = JSON.stringify({ ...status, updatedAt: undefined })
    if (content === this.lastStatus && fs.existsSync(this.paths.status)) return
    try {
      writeStatusFile(this.paths, status)
      this.lastStatus = content
      this.lastWriteError = undefined
    } catch (error) {
      const message = `cannot write ${this.paths.status}: ${errorMessage(error)}; the pool runs on`
      if (message !== this.lastWriteError) this.say(message)
      this.lastWriteError = message
      // Tried again without waiting for news: a disk with room again gets the status at once.
      this.statusTimer ??= setTimeout(() => {
        this.statusTimer = undefined
        this.push({ type: 'tick' })
      }, STATUS_RETRY_MS)
    }
  }

  // Wakes the loop when a state file is removed or replaced; status.json rewrites of our own are ignored
  // unless the file is gone, so this cannot feed itself.
  private watchStateDir(): void {
    try {
      this.watcher = fs.watch(this.paths.dir, (event, name) => {
        // Appends (every log line) are 'change'; only a rename or removal can take a file away.
        if (event !== 'rename') return
        if (name && !GUARDED_FILES.has(String(name))) return
        // Our own status.json rewrites end in a rename too: only its absence is news.
        if (name === 'status.json' && fs.existsSync(this.paths.status)) return
        this.push({ type: 'state-files' })
      })
      this.watcher.on('error', () => {
        this.watcher?.close()
        this.watcher = undefined
        this.push({ type: 'state-files' })
      })
    } catch {
      this.watcher = undefined
    }
  }

  // Puts back what was deleted under a running master, from its own memory: the directory, master.pid,
  // master.log and pool.yml (else `status` would say not running and a second start would begin).
  private restoreStateFiles(): void {
    try {
      if (!fs.existsSync(this.paths.dir)) {
        fs.mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 })
        this.watcher?.close()
        this.watcher = undefined
      }
      if (!this.watcher) this.watchStateDir()
      if (!fs.existsSync(this.paths.log)) {
        this.log.reopen()
        this.say(`${this.paths.log} was removed: writing a new one`)
      }
      if (!fs.existsSync(this.paths.pid)) {
        writeMasterPid(this.paths, this.identity)
        this.say(`${this.paths.pid} was removed: restored it`)
      }
      if (!fs.existsSync(this.paths.pool)) {
        writePool(this.paths, this.pool)
        this.say(`${this.paths.pool} was removed: restored generation ${this.pool.generation}`)
      }
    } catch (error) {
      const message = `cannot restore the state directory ${this.paths.dir}: ${errorMessage(error)}; the pool runs on`
      if (message !== this.lastWriteError) this.say(message)
      this.lastWriteError = message
    }
  }

  // The counts reconcile works towards: pool.yml's (with schedule windows in place), automatic groups at
  // the autoscaler's decision, then held within the guards and the budget.
  private desiredFormation(): Formation {
    const wanted = this.autoscaler.apply(this.spec.formation)
    const shaped = this.governor.active ? this.governor.shape(wanted, this.groupViews()) : wanted
    return this.fleet ? this.fleet.apply(shaped, this.slots) : shaped
  }

  private groupViews(): GroupView[] {
    const report = this.autoscaler.active ? this.autoscaler.report() : {}
    return Object.entries(this.spec.formation).map(([name, count]) => {
      const live = this.slots.filter((slot) => slot.group === name && slot.child && !slot.retiring)
      const range = this.spec.bounds[name]
      return {
        name,
        automatic: Boolean(range),
        min: range?.min ?? count,
        max: range?.max ?? count,
        current: live.length,
        idle: live.filter((slot) => this.busyOf(slot) === false).length,
        latency: report[name]?.inputs?.latency ?? null,
        targetLatency: autoscaleKnobs(this.pool, name).targetLatency,
      }
    })
  }

  // Built-in workers report busy/idle; a command worker's Resque title (as `ps` shows it) says the same.
  private busyOf(slot: Slot): boolean | undefined {
    if (this.argv.ipc) return slot.job !== null
    return slot.child?.pid ? busyFromTitle(readCmdline(slot.child.pid)) : undefined
  }

  // Under a budget, live workers (starting, running and still stopping) never exceed it at any instant:
  // a growing group spawns only as the shrinking one's workers actually exit.
  private withinBudget<T extends { group: string }>(spawns: T[]): T[] {
    const maxTotal = this.governor.maxTotal
    if (maxTotal === undefined) return spawns
    const live = this.slots.filter((slot) => slot.child).length
    return spawns.slice(0, spawnAllowance(live, maxTotal))
  }

  // At a schedule window's edge: the formation in force changes, with one log line naming the window.
  private followSchedule(): void {
    if (this.spec.nextChangeAt === null || clockNow() < this.spec.nextChangeAt) return
    const before = this.spec.active
    this.spec = scheduledSpec(this.pool, this.limits, clockNow())
    const began = this.spec.active.filter((i) => !before.includes(i))
    const ended = before.filter((i) => !this.spec.active.includes(i))
    for (const i of ended)
      this.say(`schedule: window ${i + 1} ends (${formatWindow(this.limits.windows[i])})`)
    for (const i of began)
      this.say(`schedule: window ${i + 1} begins (${formatWindow(this.limits.windows[i])})`)
    this.say(
      `schedule: formation now ${formatFormation(this.spec.formation, this.spec.bounds) || '(no workers)'}`,
    )
    this.autoscaler.configure({ ...this.pool, ...this.spec }, this.runningCounts())
  }

  private handleHost(observation: HostObservation): void {
    if (this.shutdown) return
    if (this.governor.observeHost(observation.reading, this.groupViews(), observation.at))
      this.passNeeded = true
    const groupOf = (pid: number) => this.slots.find((slot) => slot.child?.pid === pid)?.group
    for (const { pid, signal } of this.governor.observeRss(observation.rss, groupOf, observation.at)) {
      const slot = this.slots.find((candidate) => candidate.child?.pid === pid)
      if (!slot) continue
      // Retired, not crashed: its replacement starts now, with no crash back-off, while it finishes its job.
      if (signal === 'SIGQUIT') {
        this.retire(slot, signal)
        this.passNeeded = true
      } else this.signalGroupOf(slot, signal)
    }
  }

  private runningCounts(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const slot of this.slots)
      if (slot.child && !slot.retiring) counts[slot.group] = (counts[slot.group] ?? 0) + 1
    return counts
  }

  // Keeps the observers sampling what the pool needs: queues of automatic groups, the host for guards.
  private observe(): void {
    if (this.governor.needsHostReadings && !this.shutdown) {
      this.hostObserver ??= new HostObserver((observation) => this.push({ type: 'host', observation }))
      this.hostObserver.watch(
        this.liveSlots().map((slot) => slot.child!.pid!),
        this.governor.watchesRss,
      )
    } else {
      this.hostObserver?.stop()
      this.hostObserver = undefined
    }
    const groups = this.shutdown || !this.pool.redis ? [] : this.autoscaler.groups()
    if (groups.length === 0) {
      this.observer?.setTargets([])
      return
    }
    this.observer ??= new Observer(this.pool.redis!, this.pool.namespace ?? 'resque', (observation) =>
      this.push({ type: 'observation', observation }),
    )
    this.observer.setTargets(
      groups.map((group) => ({
        group,
        workerIds: this.slots
          .filter((slot) => slot.group === group && slot.child?.pid)
          .map((slot) => formatWorkerId(HOSTNAME, slot.child!.pid!, group)),
      })),
    )
  }

  private handleObservation(observation: Observation): void {
    if (this.shutdown) return
    const live = (group: string) => this.slots.filter((s) => s.group === group && s.child && !s.retiring)
    const changed = this.autoscaler.observe(observation, (group) => {
      const slots = live(group)
      return {
        workers: slots.filter((s) => s.state === 'running').length,
        busy: slots.filter((slot) => this.busyOf(slot) === true).length,
      }
    })
    if (changed) this.passNeeded = true
  }

  private setTitle(): void {
    const pids = this.liveSlots().map((slot) => slot.child!.pid!)
    const verb = this.shutdown ? 'stopping' : 'managing'
    const title = masterTitle(this.pool.app, verb, pids)
    if (title !== this.title) process.title = this.title = title
  }

  private finish(): void {
    try {
      writeStatusFile(this.paths, { ...this.statusFile('stopped'), workers: [] })
    } catch {
      // The state directory may be gone; nothing is left to report to.
    }
    removeMasterPid(this.paths, this.identity)
    this.say('manager finished')
    this.log.close()
  }
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}
