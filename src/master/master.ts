import { type ChildProcess, spawn } from 'node:child_process'
import { errorMessage } from '../errors.js'
import { LineBuffer } from '../state/line-buffer.js'
import type { LogFile } from '../state/log-file.js'
import { removeMasterPid, writeMasterPid } from '../state/master-pid.js'
import { type PoolConfig, readPool } from '../state/pool-file.js'
import { type ProcessIdentity, identityOf, readProcStat, signalGroup } from '../proc/process-identity.js'
import { planReconcile } from './reconcile.js'
import { type Formation } from '../state/formation.js'
import { Dynamics, type DynamicsEvent } from './dynamics.js'
import { StateFiles } from './state-files.js'
import { DeathWatch } from './death-watch.js'
import { MasterMetrics } from './metrics.js'
import { masterTitle } from '../paths.js'
import { shortSignal } from '../proc/signals.js'
import type { StatePaths } from '../state/state-dir.js'
import { type JobInfo, type StatusFile, type WorkerExit, type WorkerState } from '../state/status-file.js'
import { isWorkerMessage, type WorkerMessage } from '../state/worker-messages.js'
import { workerArgv } from './worker-command.js'
import { environmentFor } from '../state/resque-pool-config.js'
import { type MasterOptions, openMasterLog } from './foreground.js'
import { type WorkerKind, workerKind } from './worker-kind.js'
import { workingDirProblem } from '../state/working-dir.js'

export { WORKER_SETTLE_MS } from './command-started.js'
export const BACKOFF_MIN_MS = 100
export const BACKOFF_MAX_MS = 30_000
// A worker that ran at least this long before dying is respawned at once, its backoff reset.
export const STABLE_AFTER_MS = 10_000
// How long a dead worker's pipes may stay open (held by a grandchild) before it is reaped anyway.
export const OUTPUT_DRAIN_MS = 100
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

type ShutdownLevel = 'graceful' | 'fast' | 'kill'

type MasterEvent =
  | { type: 'signal'; signal: NodeJS.Signals }
  | { type: 'exit'; slot: Slot; child: ChildProcess; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'message'; slot: Slot; child: ChildProcess; message: WorkerMessage }
  | { type: 'tick' }
  | { type: 'pause-check' }
  | { type: 'state-files' }
  | DynamicsEvent

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
  // Built-in or command: how the master learns that a worker started, is busy, takes a signal.
  private readonly kind: WorkerKind
  private passNeeded = true
  private wakeTimer?: NodeJS.Timeout
  private wakeAt = 0
  private title = ''
  private readonly cleanups = new Set<Promise<void>>()
  readonly metrics = new MasterMetrics()
  // Schedules, the autoscaler, guards and the budget, the fleet share: what moves the formation.
  private readonly dynamics: Dynamics<Slot>
  // status.json, and the state files it puts back when they are removed.
  private readonly stateFiles: StateFiles
  // Sends the stop signal to whatever of the pool is left if this process dies without finishing.
  private deathWatch?: DeathWatch

  constructor(
    private readonly paths: StatePaths,
    pool: PoolConfig,
    private readonly options: MasterOptions = {},
  ) {
    this.pool = pool
    this.log = openMasterLog(paths.log, options, pool.logFormat)
    this.identity = identityOf(process.pid) ?? { pid: process.pid, startTime: '0' }
    this.argv = workerArgv(pool)
    this.kind = workerKind(this.argv, pool.command)
    this.stateFiles = new StateFiles(paths, this.log, this.identity, {
      status: () => this.statusFile(this.shutdown ? 'stopping' : 'running'),
      pool: () => this.pool,
      say: (line) => this.say(line),
      push: (event) => this.push(event),
    })
    this.dynamics = new Dynamics<Slot>(pool, {
      slots: this.slots,
      busyOf: (slot) => this.busyOf(slot),
      say: (line) => this.say(line),
      push: (event) => this.push(event),
      retire: (slot, signal) => this.retire(slot, signal),
      signalGroupOf: (slot, signal) => this.signalGroupOf(slot, signal),
    })
  }

  say(text: string): void {
    this.log.write('master', this.pid, [text])
  }

  async run(): Promise<void> {
    // Signal handlers do not keep Node's loop alive: with no workers and no timers the master would just exit.
    const keepAlive = setInterval(() => undefined, KEEP_ALIVE_MS)
    for (const signal of HANDLED_SIGNALS) process.on(signal, () => this.push({ type: 'signal', signal }))
    writeMasterPid(this.paths, this.identity)
    this.stateFiles.watch()
    this.say(`started manager (generation ${this.pool.generation}) in ${this.pool.cwd}`)
    await this.dynamics.join()
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
        this.dynamics.observe(this.shutdown !== undefined)
        // Started once the first workers are on their way (it is one more fork): until then a killed master
        // leaves nothing behind that their death signal does not reach.
        this.deathWatch ??= new DeathWatch(this.paths.dir, this.pid, this.pool.stopSignal.replace(/^SIG/, ''))
      }
      this.stateFiles.flush()
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
    await this.dynamics.stop()
    clearInterval(keepAlive)
    this.stopPauseChecks()
    this.stateFiles.close()
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
    this.stateFiles.note(!jobNews)
    if (!jobNews) this.passNeeded = true
    switch (event.type) {
      case 'signal':
        return this.handleSignal(event.signal)
      case 'exit':
        return this.reap(event.slot, event.child, event.code, event.signal)
      case 'message':
        return this.handleMessage(event.slot, event.child, event.message)
      case 'state-files':
        return this.stateFiles.restore()
      case 'tick':
        return this.dynamics.followSchedule()
      case 'observation':
      case 'host':
      case 'fleet':
        // A stopping pool is sized by its shutdown, not by its observers.
        if (event.type !== 'fleet' && this.shutdown) return
        if (this.dynamics.handle(event)) this.passNeeded = true
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
      const next = { ...pool, command: this.pool.command, jobs: this.pool.jobs, stopSignal: pool.stopSignal }
      this.dynamics.configure(next)
      this.pool = next
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
      (group) => this.dynamics.isAutomatic(group),
    )
    for (const slot of plan.drop) this.dropSlot(slot)
    for (const slot of plan.stop) {
      this.say(
        `${slot.epoch < (this.pool.restartEpochs[slot.group] ?? 0) ? 'restart' : 'scale'}: stopping worker[${slot.child?.pid}] queues: ${slot.group} (${shortSignal(this.pool.stopSignal)})`,
      )
      this.retire(slot, this.pool.stopSignal)
    }
    for (const { group, epoch } of this.dynamics.withinBudget(plan.spawn)) {
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
        stdio: ['ignore', 'pipe', 'pipe', ...(this.kind.ipc ? ['ipc' as const] : [])],
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
      if (slot.state === 'starting' && slot.child)
        next = Math.min(next, this.kind.nextStartCheck(slot, Date.now()))
    }
    // A schedule edge is on the test clock (RPD_CLOCK_OFFSET_MS); the timer runs on the real one.
    const edge = this.dynamics.nextChangeAt()
    if (edge !== null) next = Math.min(next, edge)
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
    if (this.pauseTimer || !this.paused || !this.kind.pollsForPause || this.shutdown) return
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
    return this.kind.takes(slot, signal)
  }

  // Command workers become running once they outlive the settle time, or sooner once quiet (command-started.ts);
  // built-in workers say so (handleMessage).
  private promoteSettled(): void {
    const now = Date.now()
    for (const slot of this.slots)
      if (slot.state === 'starting' && slot.child && this.kind.hasStarted(slot, now)) slot.state = 'running'
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
    if (this.pool.redis && this.kind.leavesRedisToMaster(slot.retiring, code))
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
        ...(this.kind.ipc ? { job: slot.job, paused: slot.paused } : {}),
      })),
      ...this.dynamics.report(),
      counters: this.metrics.counters(),
    }
  }

  private desiredFormation(): Formation {
    return this.dynamics.desired()
  }

  // Built-in workers report busy/idle; a command worker's Resque title (as `ps` shows it) says the same.
  private busyOf(slot: Slot): boolean | undefined {
    return this.kind.busy(slot)
  }

  private setTitle(): void {
    const pids = this.liveSlots().map((slot) => slot.child!.pid!)
    const verb = this.shutdown ? 'stopping' : 'managing'
    const title = masterTitle(this.pool.app, verb, pids)
    if (title !== this.title) process.title = this.title = title
  }

  private finish(): void {
    this.deathWatch?.done()
    this.stateFiles.writeFinal(this.statusFile('stopped'))
    removeMasterPid(this.paths, this.identity)
    this.say('manager finished')
    this.log.close()
  }
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}
