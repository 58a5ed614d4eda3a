import { AsyncLocalStorage } from 'node:async_hooks'
import os from 'node:os'
import type { Redis } from 'ioredis'
import { errorMessage } from '../errors.js'
import type { WorkerMessage } from '../state/worker-messages.js'
import { pruneDeadWorkers } from './dead-workers.js'
import {
  RubyError,
  describeError,
  interruptedJob,
  stoppedByUncaught,
  unknownJobClass,
  type JobPayload,
} from './failure.js'
import { parseJobJson } from './job-json.js'
import type { Perform } from './jobs-module.js'
import { formatWorkerId, parseQueueList, type ResqueKeys } from './keys.js'
import { setProcline, setStartingTitle } from './process-title.js'
import { hasGlobs, resolveQueues } from './queues.js'
import { JobWatch } from './job-watch.js'
import { fastTarget } from './fast-script.js'
import { describeRedisError } from './redis-client.js'
import { redactUrl } from './redis-url.js'
import { WorkerRegistry, type Outcome, type Settle, type Taken, type WorkingOn } from './registry.js'
import { formatRubyTime } from './ruby-time.js'

// Resque's defaults: poll every 5 s (INTERVAL), heartbeat every 60 s (pruned after 300 s without one).
export const POLL_INTERVAL_MS = 5_000
export const HEARTBEAT_INTERVAL_MS = 60_000
// An exiting worker waits this long for Redis to answer its last script once it is on a live connection. Unanswered,
// it is in Redis's hands (a frozen or slow Redis applies it when it resumes), so the worker exits anyway.
export const SHUTDOWN_REDIS_TIMEOUT_MS = 1_000
// After an unexpected Redis error the poll loop waits this long before trying again.
export const ERROR_BACKOFF_MS = 1_000

export interface WorkerOptions {
  redis: Redis
  redisUrl: string
  keys: ResqueKeys
  // The queue group as Resque's QUEUE= takes it: `foo`, `foo,bar`, `*`.
  group: string
  jobs: Map<string, Perform>
  pollIntervalMs?: number
  heartbeatIntervalMs?: number
  hostname?: string
  say: (line: string) => void
  notify: (message: WorkerMessage) => void
}

interface CurrentJob {
  working: WorkingOn
  className: string
  since: Date
  // Set by whichever of the job's end and an immediate stop records the outcome first.
  recorded: boolean
}

interface Reserved {
  queue: string
  text: string
  since: Date
}

// A job whose perform has returned, waiting to be recorded with the next reserve.
type Finished = { working: WorkingOn } & Outcome

// A Resque worker that Redis cannot tell from a Ruby one: one job at a time, the queues tried in order. An idle
// worker waits for a write to its queues (JobWatch) instead of polling, and re-checks every INTERVAL.
export class ResqueWorker {
  readonly id: string
  private readonly redis: Redis
  private readonly keys: ResqueKeys
  private readonly hostname: string
  private readonly patterns: string[]
  private readonly registry: WorkerRegistry
  private readonly pollIntervalMs: number
  private readonly heartbeatIntervalMs: number
  private readonly started = formatRubyTime()
  private registered = false
  private redisLost = false
  private paused = false
  private shutdown?: 'graceful' | 'now'
  private current?: CurrentJob
  // The job a stop now interrupted, and what it is failed with by the exit.
  private interrupted?: { job: CurrentJob; error: unknown }
  // The job whose code is running, carried through its timers and promises: an error nothing caught is charged to
  // the job that raised it, even when it surfaces after that job's perform returned or while another job runs.
  private readonly jobScope = new AsyncLocalStorage<CurrentJob>()
  private crashed = false
  private late?: Promise<void>
  private polled: string[] = []
  // The last job's end, recorded together with the next reserve (one round trip per job).
  private finished?: Finished
  // A job's end on its way to Redis with a reserve (or alone); it counts as recorded unless Redis refuses it.
  private finishing = 0
  // The exit: set once, from then on the worker sends Redis nothing but its last script.
  private exiting?: Promise<number>
  // Cuts short the wait for Redis's answer to the last script (TERM, or Redis lost with nothing left to record).
  private cutWait?: () => void
  private readonly watch: JobWatch
  private title = ''
  private heartbeatTimer?: NodeJS.Timeout
  private heartbeatInFlight = false
  private wakeNap?: () => void
  private resolveExited!: (code: number) => void
  // Settles when the exit is done, even if the loop is still waiting on a job or on Redis.
  private readonly exited = new Promise<number>((resolve) => (this.resolveExited = resolve))

  constructor(private readonly options: WorkerOptions) {
    this.redis = options.redis
    this.keys = options.keys
    this.patterns = parseQueueList(options.group)
    this.hostname = options.hostname ?? os.hostname()
    this.id = formatWorkerId(this.hostname, process.pid, options.group)
    this.registry = new WorkerRegistry(this.redis, this.keys, this.id, fastTarget(options.redisUrl))
    this.pollIntervalMs = options.pollIntervalMs ?? POLL_INTERVAL_MS
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS
    if (!hasGlobs(this.patterns)) this.polled = resolveQueues(this.patterns, [])
    this.watch = new JobWatch(this.redis, this.keys, this.patterns, {
      wake: () => {
        if (!this.paused) this.wakeNap?.()
      },
      say: options.say,
    })
  }

  // Registers, works until asked to stop, unregisters; resolves with the exit code.
  run(): Promise<number> {
    return Promise.race([this.loop(), this.exited])
  }

  private async loop(): Promise<number> {
    setStartingTitle()
    this.watchRedis()
    // Asked to stop before anything reached Redis: there is nothing to undo.
    if (this.shutdown) return this.exit()
    // Set first: a stop during registration must unregister, or a half-registered worker would stay behind.
    this.registered = true
    await this.register().catch((error: unknown) => {
      if (!this.exiting) throw error
    })
    if (this.shutdown) return this.exit()
    this.options.say(`Starting worker ${this.id}`)
    this.options.notify({ type: 'ready', workerId: this.id })
    this.startHeartbeat()
    void this.pruneDeadWorkers()
    try {
      await this.work()
    } finally {
      this.watch.close()
    }
    return this.exit()
  }

  // Workers started together would poll in step on the same beat: the first idle wait is a random
  // fraction (50 to 100 %) of INTERVAL, the later ones the whole of it.
  private firstPoll = true
  private nextPollMs(): number {
    if (!this.firstPoll) return this.pollIntervalMs
    this.firstPoll = false
    return firstPollDelay(this.pollIntervalMs)
  }

  private async work(): Promise<void> {
    // Woken by the clock, not by a write, while writes wake the worker: a glance (EXISTS) before the reserve.
    let glance = false
    while (!this.shutdown) {
      if (this.paused) {
        await this.recordFinished()
        this.setTitle('Paused')
        await this.watch.stop()
        await this.nap(this.pollIntervalMs)
        continue
      }
      let woken = this.watch.wakes
      try {
        const reserved = await this.reserve(glance)
        // The exit was sent after this reserve: it has put the job back at the head of its queue.
        if (reserved && !this.exiting) {
          const ran = await this.runJobs(reserved)
          // Stopped for the loop to look again (a job that returned a promise, a pause, a stop).
          if (!ran) continue
          // The last reserve found nothing.
          woken = ran.woken
        }
      } catch (error) {
        if (this.shutdown) break
        this.options.say(
          `cannot poll ${this.polled.join(',') || this.options.group}: ${describeRedisError(error)}; retrying`,
        )
        await this.nap(ERROR_BACKOFF_MS)
        continue
      } finally {
        glance = false
      }
      if (this.exiting) break
      if (!this.shutdown) {
        this.setTitle(`Waiting for ${this.polled.join(',')}`)
        // Watching starts before the next check, so a job pushed in between is not missed.
        if (await this.watch.start()) continue
        if (this.watch.wakes !== woken) continue
        await this.nap(this.nextPollMs())
        glance = this.watch.watching && this.watch.wakes === woken
      }
    }
  }

  // Jobs back to back: each next one is reserved from the callback of the reply that ends the last, so while jobs
  // return at once the loop makes no promise per job (with the job scope's hooks on, each promise is a measurable
  // share of a short job's cost). Settles with undefined when the loop must look again (a job that returned a
  // promise, a pause, a stop, globs to resolve), with the wake count from before a reserve that found nothing, or
  // rejects with a reserve's error.
  private runJobs(first: Reserved): Promise<{ woken: number } | undefined> {
    return new Promise((resolve, reject) => {
      const run = (reserved: Reserved): void => {
        try {
          this.watch.pause()
          const performing = this.perform(reserved)
          if (performing) return void performing.then(() => resolve(undefined), reject)
          if (this.shutdown || this.paused || hasGlobs(this.patterns)) return resolve(undefined)
          const woken = this.watch.wakes
          this.takeThen((error, taken) => {
            if (error) return reject(error)
            if (this.exiting) return resolve(undefined)
            if (!taken) return resolve({ woken })
            run(taken)
          })
        } catch (error) {
          reject(error)
        }
      }
      run(first)
    })
  }

  // The last job's end when no reserve follows it (pause, stop).
  private async recordFinished(): Promise<void> {
    const finished = this.finished
    if (!finished || this.exiting) return
    this.finished = undefined
    this.finishing++
    try {
      await this.registry.finishJob(finished.working, finished.failure)
    } catch (error) {
      this.options.say(`cannot record the end of a job in Redis: ${describeRedisError(error)}`)
    } finally {
      this.finishing--
    }
  }

  // The title of a job in progress, built only when it differs from the last one (within a second, in a drain of
  // one class, it does not).
  private processing = { queue: '', second: 0, known: '' }
  private processingTitle = ''
  private busySince = { at: NaN, text: '' }
  private setProcessingTitle(queue: string, second: number, known: string): void {
    const last = this.processing
    if (
      last.queue === queue &&
      last.second === second &&
      last.known === known &&
      this.title === this.processingTitle
    )
      return
    this.processing = { queue, second, known }
    this.processingTitle = `Processing ${queue} since ${second} [${known}]`
    this.setTitle(this.processingTitle)
  }

  // Only on change: a drain would otherwise rewrite the same title thousands of times a second.
  private setTitle(text: string): void {
    if (text === this.title) return
    this.title = text
    setProcline(text)
  }

  // QUIT, or the master is gone: finish the current job, then exit.
  stopGracefully(reason: string): void {
    if (this.shutdown) return
    this.shutdown = 'graceful'
    this.options.say(
      this.current ? `${reason}: finishing ${this.current.className}, then exiting` : `${reason}: exiting`,
    )
    this.wakeNap?.()
    // Idle: exit now. A reserve still on its way is answered before the exit, which puts back what it took.
    if (!this.current) void this.exit()
  }

  // TERM or INT: stop at once; the interrupted job is recorded as failed, as Resque does. Resolves with the exit code.
  stopNow(reason: string): Promise<number> {
    if (this.shutdown !== 'now') {
      const announced = this.shutdown !== undefined
      this.shutdown = 'now'
      const current = this.current
      if (current && !current.recorded) {
        current.recorded = true
        this.interrupted = { job: current, error: interruptedJob() }
        this.options.say(`${reason}: stopping now, interrupting ${current.className}`)
      } else if (!announced) this.options.say(`${reason}: exiting`)
      this.wakeNap?.()
      this.cutWait?.()
    }
    return this.exit()
  }

  // An error nothing caught (a throw in a job's timer, a promise it left unawaited): the process can no longer be
  // trusted, so the worker exits at once, as Node would, but first charges the error to the job that raised it.
  // Still running or not yet recorded, that job fails with its own error; already recorded as done, it gains a
  // failure record. A different job in progress is failed as interrupted, naming the cause. The exit status is 1.
  uncaught(error: unknown): Promise<number> {
    const { exception, error: message } = describeError(error)
    const current = this.current
    const culprit = this.jobScope.getStore() ?? current
    this.options.say(
      `uncaught ${exception}: ${message}${culprit ? ` (raised by ${culprit.className})` : ''}; the worker exits`,
    )
    this.crashed = true
    if (this.shutdown !== 'now' && !this.exiting) {
      this.shutdown = 'now'
      if (current && !current.recorded) {
        current.recorded = true
        const own = culprit === current
        this.interrupted = {
          job: current,
          error: own ? error : stoppedByUncaught(culprit!.className, exception),
        }
      }
      if (culprit && culprit !== current) {
        if (this.finished?.working === culprit.working) {
          if (!this.finished.failure) this.finished = { working: culprit.working, failure: { error } }
        } else this.late = this.recordLateFailure(culprit, error)
      }
      this.wakeNap?.()
      this.cutWait?.()
    }
    return this.exit()
  }

  // The failure of a job already recorded as done, bounded like the exit's own script.
  private async recordLateFailure(job: CurrentJob, error: unknown): Promise<void> {
    if (this.redisLost) {
      this.options.say(`cannot record the failure of ${job.className}: Redis is away`)
      return
    }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_REDIS_TIMEOUT_MS)))
    try {
      await Promise.race([this.registry.recordFailure(job.working, error), timeout])
    } catch (failure) {
      this.options.say(`cannot record the failure of ${job.className}: ${describeRedisError(failure)}`)
    } finally {
      clearTimeout(timer)
    }
  }

  pause(): void {
    if (this.paused) return
    this.paused = true
    this.options.say('USR2 received; pausing job processing')
    this.options.notify({ type: 'paused', paused: true })
    if (!this.current) this.setTitle('Paused')
    this.wakeNap?.()
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.options.say('CONT received; resuming job processing')
    this.options.notify({ type: 'paused', paused: false })
    this.wakeNap?.()
  }

  private exit(): Promise<number> {
    this.exiting ??= this.retire().then((code) => {
      const status = this.crashed ? Math.max(code, 1) : code
      this.resolveExited(status)
      return status
    })
    return this.exiting
  }

  // Resque's unregister_worker, with the end of the last job (or the interrupted one) in the same script. Sent as soon
  // as the worker decides to exit: whatever it sent before lands first, and it sends nothing after.
  private async retire(): Promise<number> {
    clearInterval(this.heartbeatTimer)
    this.watch.close()
    if (!this.registered) return 0
    await this.late
    const interrupted = this.interrupted
    const finished: Finished | undefined = interrupted
      ? { working: interrupted.job.working, failure: { error: interrupted.error } }
      : this.finished
    this.finished = undefined
    // A job's end not yet in Redis is worth waiting for (until TERM); a bare unregistration is not: the master
    // removes the worker once Redis is back. Exit 1 asks it to.
    const unrecorded = () => (finished !== undefined && !interrupted) || this.finishing > 0
    if (this.redisLost && (this.shutdown === 'now' || !unrecorded())) return this.leaveToMaster()
    const { live, reply } = this.registry.retire(this.polled, finished)
    const answer = await new Promise<'done' | 'held' | 'sent' | 'lost' | Error>((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const onLine = () => {
        timer ??= setTimeout(() => resolve('sent'), SHUTDOWN_REDIS_TIMEOUT_MS)
      }
      const onError = () => {
        if (this.shutdown === 'now' || !unrecorded()) resolve('lost')
      }
      // Written to a live connection, the script is Redis's to apply; queued for a lost one, it is not yet.
      if (live) onLine()
      this.redis.on('ready', onLine)
      this.redis.on('error', onError)
      this.cutWait = () => resolve(timer ? 'sent' : 'lost')
      reply.then(resolve, (error: unknown) =>
        resolve(error instanceof Error ? error : new Error(String(error))),
      )
      // Released once the wait is over, whichever way it ended.
      void this.exited.finally(() => {
        clearTimeout(timer)
        this.redis.off('ready', onLine)
        this.redis.off('error', onError)
      })
    })
    this.cutWait = undefined
    this.registry.close()
    if (answer === 'done') return 0
    if (answer === 'sent') {
      this.options.say(
        `no answer from Redis in ${SHUTDOWN_REDIS_TIMEOUT_MS / 1000} s; exiting (Redis unregisters ${this.id} when it resumes)`,
      )
      return 0
    }
    if (answer === 'lost') return this.leaveToMaster()
    if (answer === 'held') {
      this.options.say(
        `cannot unregister ${this.id}: Redis holds a job record it does not expect; the master removes it`,
      )
      return 1
    }
    this.options.say(`cannot unregister ${this.id}: ${describeRedisError(answer)}; the master removes it`)
    return 1
  }

  private leaveToMaster(): number {
    this.options.say(`cannot unregister ${this.id}: Redis is away; the master removes it`)
    return 1
  }

  // Resque sends the first heartbeat before registering, so pruning never mistakes a new worker for a dead one.
  // Again (Redis came back having forgotten this worker): keep the first start time and restore the job in progress.
  // Each step is sent only while the worker is not exiting: a step sent after the exit would leave a ghost.
  private async register(again = false): Promise<void> {
    await this.heartbeat()
    if (this.exiting) return
    await this.registry.register(this.started, again)
    if (this.exiting) return
    if (again && this.current && !this.current.recorded)
      await this.registry.restoreWorkingOn(this.current.working)
  }

  private async heartbeat(): Promise<void> {
    const seconds = await this.registry.serverTime()
    if (!this.exiting) await this.registry.heartbeat(seconds)
  }

  // Resque's reserve: the first job found, trying each queue in order (globs re-read from resque:queues each time),
  // sent with the end of the job before it.
  // A glance first checks that some queue holds a job: one command however many queues, where an idle reserve
  // costs the script and a pop per queue in Redis's command counts.
  private reserve(glance = false): Promise<Reserved | undefined> {
    if (hasGlobs(this.patterns) || (glance && !this.finished && this.polled.length > 0))
      return this.lookThenTake(glance)
    return this.take()
  }

  private async lookThenTake(glance: boolean): Promise<Reserved | undefined> {
    if (hasGlobs(this.patterns)) {
      const queues = await this.redis.smembers(this.keys.queues)
      if (this.exiting) return undefined
      this.polled = resolveQueues(this.patterns, queues)
    }
    if (glance && !this.finished && this.polled.length > 0) {
      const queued = await this.redis.exists(...this.polled.map((queue) => this.keys.queue(queue)))
      if (queued === 0 || this.exiting) return undefined
    }
    return this.take()
  }

  private take(): Promise<Reserved | undefined> {
    return new Promise((resolve, reject) =>
      this.takeThen((error, reserved) => (error ? reject(error) : resolve(reserved))),
    )
  }

  // The script itself, with the end of the last job handed over to it.
  private takeThen(done: Settle<Reserved | undefined>): void {
    const finished = this.finished
    const since = new Date()
    // Handed over with the reserve: an exit from now on leaves it to this script.
    this.finished = undefined
    if (finished) this.finishing++
    // Called once: advanceThen answers asynchronously, and throws only before it sends anything.
    const settle: Settle<Taken | undefined> = (error, taken) => {
      if (finished) {
        this.finishing--
        // Refused by Redis (not lost: a lost connection resends it), so it goes with the next script.
        if (error && !this.exiting) this.finished ??= finished
      }
      if (error) done(error)
      else done(null, taken && { ...taken, since })
    }
    try {
      this.registry.advanceThen(this.polled, since, finished, settle)
    } catch (error) {
      settle(error instanceof Error ? error : new Error(String(error)))
    }
  }

  // Runs the job; a promise only when its perform returned one. A job that returns at once costs the loop no promise:
  // with the job scope's hooks on, each one created per job is a measurable share of a short job's cost.
  private perform({ queue, text, since }: Reserved): Promise<void> | undefined {
    const payload = parsePayload(text)
    const className =
      typeof payload === 'object' && typeof payload.class === 'string' ? payload.class : 'No Name'
    const working = this.registry.workingOn(queue, payload, since)
    const current: CurrentJob = { working, className, since, recorded: false }
    this.current = current
    const at = since.getTime()
    this.setProcessingTitle(
      queue,
      Math.floor(at / 1000),
      this.options.jobs.has(className) ? className : 'No Name',
    )
    // Jobs a millisecond apart share the text.
    if (at !== this.busySince.at) this.busySince = { at, text: since.toISOString() }
    this.options.notify({ type: 'busy', job: { class: className, queue, since: this.busySince.text } })
    let result: unknown
    try {
      result = this.jobScope.run(current, invoke, this.options.jobs, payload)
    } catch (error) {
      this.performed(current, { error })
      return undefined
    }
    if (!isThenable(result)) {
      this.performed(current)
      return undefined
    }
    return Promise.resolve(result).then(
      () => this.performed(current),
      (error: unknown) => this.performed(current, { error }),
    )
  }

  private performed(current: CurrentJob, failure?: { error: unknown }): void {
    if (current.recorded) return
    current.recorded = true
    const { className, working } = current
    if (failure) {
      const { exception, error } = describeError(failure.error)
      this.options.say(`${className} on ${working.queue} failed: ${exception}: ${error}`)
    }
    this.finished = { working, failure }
    this.current = undefined
    this.options.notify({ type: 'idle' })
  }

  // Like a Ruby worker at startup, clean up registrations that dead workers left (e.g. while Redis was away).
  private async pruneDeadWorkers(): Promise<void> {
    try {
      const pruned = await pruneDeadWorkers(this.redis, this.keys, {
        id: this.id,
        hostname: this.hostname,
        queues: this.patterns,
      })
      for (const id of pruned) this.options.say(`Pruning dead worker: ${id}`)
    } catch (error) {
      this.options.say(`cannot prune dead workers: ${describeRedisError(error)}`)
    }
  }

  private startHeartbeat(): void {
    this.heartbeatTimer = setInterval(() => this.beat(), this.heartbeatIntervalMs)
    this.heartbeatTimer.unref()
  }

  private beat(): void {
    if (this.heartbeatInFlight || this.exiting) return
    this.heartbeatInFlight = true
    this.heartbeat()
      .catch((error) => this.options.say(`cannot send heartbeat: ${errorMessage(error)}`))
      .finally(() => {
        this.heartbeatInFlight = false
      })
  }

  // Logs Redis going away once, and on its return registers again: a restarted Redis has forgotten this worker.
  private watchRedis(): void {
    const url = redactUrl(this.options.redisUrl)
    this.redis.on('error', (error) => {
      if (this.redisLost) return
      this.redisLost = true
      this.options.say(`lost Redis at ${url} (${describeRedisError(error)}); retrying until it is back`)
    })
    this.redis.on('ready', () => {
      if (!this.redisLost) return
      this.redisLost = false
      this.options.say(`Redis at ${url} is back`)
      if (this.registered && !this.exiting) void this.reregister()
    })
  }

  private async reregister(): Promise<void> {
    try {
      await this.register(true)
    } catch (error) {
      this.options.say(`cannot register again: ${describeRedisError(error)}`)
    }
  }

  // Sleeps between polls; a signal (stop, pause, resume) cuts it short.
  private nap(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const wake = () => done()
      this.wakeNap = wake
      function done() {
        clearTimeout(timer)
        resolve()
      }
    }).finally(() => {
      this.wakeNap = undefined
    })
  }
}

// The job's perform, called with the payload's args; what it returns (a promise, for an async job) is the caller's.
function invoke(jobs: Map<string, Perform>, payload: JobPayload | string): unknown {
  if (typeof payload === 'string') throw describeBadPayload(payload)
  if (typeof payload.class !== 'string' || payload.class === '')
    throw new RubyError('ArgumentError', `job payload has no "class" to run: ${preview(payload)}`)
  const perform = jobs.get(payload.class)
  if (!perform) throw unknownJobClass(String(payload.class))
  const args = Array.isArray(payload.args) ? payload.args : payload.args == null ? [] : [payload.args]
  return perform(...args)
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

// Ruby's integers have no size limit: one beyond 2^53 reaches the job as a bigint, not a rounded number.
function parsePayload(text: string): JobPayload | string {
  try {
    const value = parseJobJson(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as JobPayload) : text
  } catch {
    return text
  }
}

const preview = (payload: unknown) =>
  String(JSON.stringify(payload, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).slice(0, 80)

// A payload that is not a JSON object: say which (bad JSON, or a valid value of the wrong kind).
function describeBadPayload(text: string): RubyError {
  try {
    parseJobJson(text)
  } catch {
    return new RubyError('JSON::ParserError', `unexpected token in job ${text.slice(0, 80)}`)
  }
  return new RubyError(
    'ArgumentError',
    `job payload ${text.slice(0, 80)} is not a JSON object with "class" and "args"`,
  )
}

export function firstPollDelay(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (0.5 + random() / 2))
}
