import type { GuardConfig } from '../state/pool-file.js'
import { EXIT_FAILURE, RpdError } from '../errors.js'
import type { Bounds, Formation } from '../state/formation.js'
import type { LogLine } from '../state/log-file.js'
import { inspectStateDir, resolveStateDir, statePaths } from '../state/state-dir.js'
import type { ApplyOutcome } from './apply-pool.js'
import type { PublicConfig } from './config.js'
import { type StatusJson, readFullStatus, statusJson } from './pool-status.js'
import { signalMaster } from './signal-master.js'
import { checkTimeoutMs } from './timeout.js'
import type { PoolProgress } from './progress-report.js'

// Each operation loads what it needs when called: `rpd status` and `rpd kill` run through this class without
// loading the YAML parser, the regular-expression engine or the daemon launcher.
export interface PoolOptions {
  // The state directory; default: $RPD_STATE_DIR, else the nearest .rpd upwards, else ./.rpd.
  stateDir?: string
  // Receives the progress lines the CLI would print (the master's log lines while waiting); default: none.
  onLine?: (line: string) => void
  // Told where a waiting start, scale, reload, restart or stop has got to (workers started of how many, workers
  // still stopping and busy), each time that changes; the CLI draws it as a live line on a terminal.
  onProgress?: (progress: PoolProgress) => void
}

export interface StartPoolOptions {
  // `{ foo: 2, '*': 1 }`, `'foo=2:*=1'` or `['foo=2', '*=1']`; default: WORKERS, the saved pool.yml, resque-pool.yml.
  formation?: Formation | string | readonly string[]
  // A Procfile-style worker command (`bundle exec rake resque:work`)...
  command?: string
  // ...or a jobs module for rpd's built-in Resque worker, with its Redis.
  jobs?: string
  redis?: string
  namespace?: string
  stopSignal?: string
  app?: string
  // Pool-wide limits: { maxLoad, minFreeMem: '10%', guardAfter, maxRss: '500M', maxTotal }.
  guards?: GuardConfig
  // Serve Prometheus metrics from the master on [HOST:]PORT (loopback unless a host is given).
  metrics?: string
  // master.log as text lines (default) or one JSON object per line.
  logFormat?: string
  // Join a fleet through the pool's Redis and run a share of its formation.
  fleet?: { name: string; hostId?: string; weight?: number }
  // Resque's INTERVAL for every worker (seconds, as text or a number).
  interval?: string
  // resque-pool's -c/--config and -E/--environment.
  config?: string
  environment?: string
  // Wait until every worker has started (default), or return once the master is up.
  wait?: boolean
  // Seconds to wait for the workers (default 60).
  timeout?: number
  cwd?: string
  env?: NodeJS.ProcessEnv
}

export interface WaitOptions {
  wait?: boolean
  // Seconds (default 60).
  timeout?: number
}

export interface StartedPool {
  pid: number
  generation: number
  formation: Formation
  stateDir: string
}

export interface ApplyResult {
  // applied: the master runs it; saved: no pool runs, kept for the next start; signalled: sent, not awaited.
  outcome: 'applied' | 'saved' | 'signalled' | 'unchanged'
  generation: number
  formation: Formation
  // Automatic groups and their bounds (`images=0..8`).
  bounds: Bounds
  // Automatic groups this change made manual (scaled to a count).
  manual: string[]
}

// A signal sent to the verified master.
export interface SignalResult {
  pid: number
  signal: string
}

// Jobs pushed: how many, the queue's length after, and where (the Redis URL and namespace).
export interface EnqueueResult {
  pushed: number
  length: number
  url: string
  namespace: string
}

export type FormationChanges = Record<string, number | string> | string | readonly string[]

export interface LogsOptions {
  // How many of the last lines to give first (default 20).
  lines?: number
  // Go on with new lines until the master exits or the signal aborts.
  follow?: boolean
  // Follow until a line matches (linear-time matching; no lookaround).
  until?: RegExp | string
  // Seconds to wait for `until` (default: no limit).
  timeout?: number
  signal?: AbortSignal
}

export interface StopOptions {
  // Seconds of graceful stop before escalating to TERM, then KILL (default 60).
  timeout?: number
  force?: boolean
  signal?: AbortSignal
}

const toMs = (seconds: number | undefined) =>
  seconds === undefined ? undefined : checkTimeoutMs(seconds * 1000, `timeout ${seconds}`)

function changeSpecs(changes: FormationChanges): string[] {
  if (typeof changes === 'string') return changes.split(/\s+/).filter(Boolean)
  if (Array.isArray(changes)) return [...(changes as readonly string[])]
  return Object.entries(changes as Record<string, number | string>).map(
    ([group, value]) => `${group}=${value}`,
  )
}

function formationSpecs(formation: StartPoolOptions['formation']): string[] | undefined {
  if (formation === undefined) return undefined
  if (typeof formation === 'string') return [formation]
  if (Array.isArray(formation)) return [...(formation as readonly string[])]
  return Object.entries(formation as Formation).map(([group, count]) => `${group}=${count}`)
}

function applyResult(outcome: ApplyOutcome): ApplyResult {
  return {
    outcome: outcome.kind,
    generation: outcome.pool.generation,
    formation: outcome.pool.formation,
    bounds: outcome.pool.bounds,
    manual: outcome.manual ?? [],
  }
}

// A pool of Resque workers, driven from code: every CLI command is one method here. Methods return data and
// never print (progress goes to onLine), install no signal handlers and never exit the process; failures
// throw RpdError with the CLI's exit code and a stable `code`. The constructor does no I/O.
export class Pool {
  private dir?: string

  constructor(private readonly options: PoolOptions = {}) {}

  // The state directory, resolved on first use (absolute, symlinks resolved).
  get stateDir(): string {
    this.dir ??= resolveStateDir(this.options.stateDir)
    return this.dir
  }

  private print = (line: string): void => {
    this.options.onLine?.(line)
  }

  // Starts a detached master and (unless wait is false) waits until every worker has started.
  async start(options: StartPoolOptions = {}): Promise<StartedPool> {
    const specs = formationSpecs(options.formation)
    const launch = {
      specs,
      stopSignal: options.stopSignal,
      metrics: options.metrics,
      interval: options.interval,
    }
    // The master boots (held) while the rest of start loads: most of what a start waits for.
    const { prepareStart } = await import('./start-launch.js')
    const prepared = await prepareStart(this.stateDir, { ...launch, cwd: options.cwd }, this.print)
    let startPool: typeof import('./start-pool.js').startPool
    try {
      ;({ startPool } = await import('./start-pool.js'))
    } catch (error) {
      prepared.held?.cancel()
      throw error
    }
    const { master, pool, paths } = await startPool(
      this.stateDir,
      {
        specs,
        command: options.command,
        jobs: options.jobs,
        redis: options.redis,
        namespace: options.namespace,
        stopSignal: options.stopSignal,
        guards: options.guards,
        metrics: options.metrics,
        logFormat: options.logFormat,
        fleet: options.fleet,
        interval: options.interval,
        config: options.config,
        environment: options.environment,
        app: options.app,
        wait: options.wait,
        timeoutMs: toMs(options.timeout),
        cwd: options.cwd,
        env: options.env,
        onProgress: this.options.onProgress,
      },
      this.print,
      prepared,
    )
    return { pid: master.pid, generation: pool.generation, formation: pool.formation, stateDir: paths.dir }
  }

  // Exactly the object `rpd status --json` prints; `running: false` when no pool runs (never throws for that).
  async status(): Promise<StatusJson> {
    return statusJson(await readFullStatus(this.stateDir))
  }

  // `{ foo: 4, bar: '+1', baz: 0 }` or `'foo=4 bar=+1 baz=0'`: merged into the formation, applied to a running
  // pool (waiting until it is), or saved for the next start when none runs.
  async scale(changes: FormationChanges, options: WaitOptions = {}): Promise<ApplyResult> {
    const { scalePool } = await import('./apply-pool.js')
    const outcome = await scalePool(
      this.stateDir,
      changeSpecs(changes),
      { wait: options.wait, timeoutMs: toMs(options.timeout), onProgress: this.options.onProgress },
      this.print,
    )
    return applyResult(outcome)
  }

  // Re-reads pool.yml (after a hand edit) and reopens master.log (after rotation).
  async reload(options: WaitOptions = {}): Promise<ApplyResult> {
    const { reloadPool } = await import('./apply-pool.js')
    const outcome = await reloadPool(
      this.stateDir,
      { wait: options.wait, timeoutMs: toMs(options.timeout), onProgress: this.options.onProgress },
      this.print,
    )
    return applyResult(outcome)
  }

  // Rolling restart of the groups named (default: all): each replacement starts before its predecessor stops.
  async restart(groups: readonly string[] = [], options: WaitOptions = {}): Promise<ApplyResult> {
    const { restartPool } = await import('./apply-pool.js')
    const outcome = await restartPool(
      this.stateDir,
      groups,
      { wait: options.wait, timeoutMs: toMs(options.timeout), onProgress: this.options.onProgress },
      this.print,
    )
    return applyResult(outcome)
  }

  // Sends a signal to the verified master (USR1/USR2/CONT are passed on to every worker).
  async kill(signal: string): Promise<SignalResult> {
    const { master, signal: sent } = signalMaster(this.stateDir, signal)
    return { pid: master.pid, signal: sent }
  }

  // Resque's pause (USR2 to every worker) and resume (CONT).
  async pause(): Promise<SignalResult> {
    return this.kill('USR2')
  }

  async resume(): Promise<SignalResult> {
    return this.kill('CONT')
  }

  // The saved formation and settings (what `rpd config` shows).
  async config(): Promise<PublicConfig> {
    const { readPool } = await import('../state/pool-file.js')
    const { publicConfig } = await import('./config.js')
    const paths = statePaths(this.stateDir)
    const pool = inspectStateDir(paths.dir) ? readPool(paths) : undefined
    if (!pool)
      throw new RpdError(
        `no pool saved in ${paths.dir}: start one with rpd start, or save one with rpd scale`,
        EXIT_FAILURE,
        'NO_POOL',
      )
    return publicConfig(pool)
  }

  // master.log's lines, parsed; with follow, new lines as they come (end the loop, or abort the signal, to stop).
  async *logs(options: LogsOptions = {}): AsyncGenerator<LogLine> {
    const { noMatchError, showLogs } = await import('./logs.js')
    const { parseLogLine } = await import('../state/log-file.js')
    const queue: string[] = []
    let wake: (() => void) | undefined
    let finished = false
    let failure: unknown
    let matched = true
    const abort = new AbortController()
    const outer = options.signal
    const onOuterAbort = () => abort.abort()
    outer?.addEventListener('abort', onOuterAbort)
    if (outer?.aborted) abort.abort()
    const run = showLogs(
      this.stateDir,
      {
        lines: options.lines,
        follow: options.follow,
        until: options.until,
        timeoutMs: toMs(options.timeout),
        signal: abort.signal,
      },
      (line) => {
        queue.push(line)
        wake?.()
      },
    ).then(
      (ok) => {
        matched = ok
        finished = true
        wake?.()
      },
      (error) => {
        failure = error
        finished = true
        wake?.()
      },
    )
    try {
      for (;;) {
        while (queue.length) yield parseLogLine(queue.shift()!)
        if (finished) break
        await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
      }
      if (failure) throw failure
      if (!matched) throw noMatchError(options.until, options.timeout)
    } finally {
      abort.abort()
      outer?.removeEventListener('abort', onOuterAbort)
      await run
    }
  }

  // The status now, then again each time the master rewrites it, until the signal aborts.
  async *watch(options: { signal?: AbortSignal } = {}): AsyncGenerator<StatusJson> {
    const { watchStatus } = await import('./watch-status.js')
    yield* watchStatus(this.stateDir, options.signal)
  }

  // Pushes a Resque job as Ruby's Resque.enqueue does, on the pool's Redis (or the one given).
  async enqueue(
    queue: string,
    className: string,
    args: readonly unknown[] = [],
    // rawArgs: the arguments as JSON texts, written exactly as given (2.0 stays a Float for Ruby).
    options: { count?: number; redis?: string; namespace?: string; rawArgs?: readonly string[] } = {},
  ): Promise<EnqueueResult> {
    const { chooseRedisTarget, enqueueJobs } = await import('../resque/enqueue.js')
    const target = chooseRedisTarget({
      url: options.redis,
      namespace: options.namespace,
      stateDir: this.stateDir,
    })
    const result = await enqueueJobs({
      ...target,
      queue,
      className,
      args,
      rawArgs: options.rawArgs,
      count: options.count ?? 1,
    })
    return { pushed: result.pushed, length: result.length, url: result.url, namespace: result.namespace }
  }

  // Graceful stop: every worker finishes its job, then the master exits; escalates after the timeout.
  async stop(options: StopOptions = {}): Promise<'stopped' | 'not running'> {
    const { stopPool } = await import('./stop-pool.js')
    return stopPool(
      this.stateDir,
      {
        timeoutMs: toMs(options.timeout),
        force: options.force,
        signal: options.signal,
        onProgress: this.options.onProgress,
      },
      this.print,
    )
  }
}
