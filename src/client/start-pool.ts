import { compileLimits } from '../autoscale/limits-config.js'
import path from 'node:path'
import { EXIT_FAILURE, RpdError, errorMessage, usageError } from '../errors.js'
import { createHash } from 'node:crypto'
import os from 'node:os'
import { fleetKeys } from '../fleet/keys.js'
import { type FormationSpec, formatFormation, formatRange, parseSpec, sameSpec } from '../state/formation.js'
import type { ChildProcess } from 'node:child_process'
import { type HeldMaster, launchForegroundMaster, launchHeldMaster } from './daemon.js'
import { LogReader, follow, logSize } from '../state/log-tail.js'
import { findMaster } from '../state/master-pid.js'
import {
  type FleetConfig,
  type GuardConfig,
  type PoolConfig,
  defaultPool,
  parseLogFormat,
  poolDocument,
  readPool,
  writePool,
} from '../state/pool-file.js'
import { withPoolLock } from '../state/pool-lock.js'
import { findLeftovers } from './pool-status.js'
import { type Print, formationApplied, waitForMaster } from './pool-wait.js'
import { type OnProgress, measureProgress, reportChanges } from './progress-report.js'
import { type ProcessIdentity, isAlive, identityOf } from '../proc/process-identity.js'
import { environmentFor, readResquePoolConfig, readResquePoolFile } from '../state/resque-pool-config.js'
import { parseSignal } from '../proc/signals.js'
import type { StatePaths } from '../state/state-dir.js'
import { readStatusFile } from '../state/status-file.js'
import { registerPool } from '../state/pool-registry.js'
import { logicalCwd } from '../state/working-dir.js'
import { spaceProblem } from '../state/file-errors.js'
import { type PreparedStart, parseInterval, prepareStart } from './start-launch.js'
import { stopLeftovers, stopOrphans } from './stop-pool.js'

// How long the master gets to write master.pid before `start` gives up on it.
export const MASTER_BOOT_TIMEOUT_MS = 15_000
// A master that died without a word, on a filesystem with less than this free, is taken to have found it full.
const NEAR_FULL_BYTES = 64 * 1024

export interface StartOptions {
  // Told how many workers have started while start waits for them.
  onProgress?: OnProgress
  // Guards and the worker budget (--max-load, --max-total, ...), merged over the saved ones.
  guards?: GuardConfig
  specs?: string[]
  command?: string
  jobs?: string
  redis?: string
  namespace?: string
  stopSignal?: string
  app?: string
  // HOST:PORT for the master's /metrics; an empty string turns a saved setting off.
  metrics?: string
  logFormat?: string
  // Resque's INTERVAL for every worker, in seconds.
  interval?: string
  // resque-pool's -c/--config: the resque-pool.yml to read.
  config?: string
  // resque-pool's -E/--environment.
  environment?: string
  wait?: boolean
  // `rpd run`: the master runs as this process's child, its log lines on stdout; start returns once it is up.
  foreground?: boolean
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  cwd?: string
  // Join this fleet (through the pool's Redis) and run a share of its formation.
  fleet?: { name: string; hostId?: string; weight?: number }
}

// Two masters on one machine need different ids: the host name plus a digest of the state directory.
export function defaultHostId(dir: string, hostname: string = os.hostname()): string {
  const digest = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 6)
  const host = hostname.replace(/[^A-Za-z0-9_.:@-]/g, '-') || 'host'
  return `${host}-${digest}`
}

// Formation from the arguments, else WORKERS, else -c/--config or RESQUE_POOL_CONFIG, else the saved pool.yml
// (re-read from its resque-pool.yml when it came from one), else resque-pool.yml. Says which it used.
function chooseFormation(
  options: StartOptions,
  saved: PoolConfig | undefined,
  env: NodeJS.ProcessEnv,
  print: Print,
): { spec: FormationSpec; configFile?: string } {
  const cwd = options.cwd ?? logicalCwd()
  const from = (source: string, spec: FormationSpec, configFile?: string) => {
    print(`formation from ${source}: ${formatFormation(spec.formation, spec.bounds) || '(no workers)'}`)
    return { spec, configFile }
  }
  if (options.specs && options.specs.length) return from('the arguments', parseSpec(options.specs))
  if (env.WORKERS) return from('WORKERS', parseSpec([env.WORKERS]))
  if (options.config !== undefined || env.RESQUE_POOL_CONFIG) {
    const file = readResquePoolConfig(cwd, env, options.config)!
    return from(file.file, { formation: file.formation, bounds: {} }, file.file)
  }
  if (saved?.configFile) {
    const file = readResquePoolFile(saved.configFile, cwd, env)
    return from(file.file, { formation: file.formation, bounds: {} }, file.file)
  }
  const fromFile = readResquePoolConfig(cwd, env)
  if (saved) {
    const spec = { formation: saved.formation, bounds: saved.bounds }
    if (fromFile && !sameSpec(spec, { formation: fromFile.formation, bounds: {} }))
      print(
        `${fromFile.file} (${formatFormation(fromFile.formation) || 'no workers'}) differs from the saved pool.yml: using the saved one; rpd start -c ${path.relative(cwd, fromFile.file)} uses the file`,
      )
    return from('the saved pool.yml', spec)
  }
  // A fleet member takes its groups from the fleet formation; arguments only add local groups.
  if (options.fleet) return { spec: { formation: {}, bounds: {} } }
  if (fromFile) return from(fromFile.file, { formation: fromFile.formation, bounds: {} }, fromFile.file)
  throw usageError(
    'no workers given: pass QUEUE=COUNT arguments (e.g. rpd start foo=2 bar=1), set WORKERS=foo=2:bar=1, or write resque-pool.yml',
  )
}

function choosePool(
  options: StartOptions,
  saved: PoolConfig | undefined,
  print: Print,
  dir: string,
): PoolConfig {
  const cwd = options.cwd ?? logicalCwd()
  const base = saved ?? defaultPool(cwd)
  const environment = options.environment ?? base.environment
  const env = environmentFor(options.env ?? process.env, environment)
  const { spec, configFile } = chooseFormation(options, saved, env, print)
  const jobs = options.jobs ? path.resolve(cwd, options.jobs) : undefined
  const command = jobs
    ? undefined
    : options.command || env.RPD_COMMAND || (options.jobs ? undefined : base.command)
  const pool: PoolConfig = {
    ...base,
    ...spec,
    command,
    jobs: command ? undefined : (jobs ?? base.jobs),
    redis: options.redis ?? (env.REDIS_URL || undefined) ?? base.redis,
    namespace: options.namespace ?? base.namespace,
    stopSignal: options.stopSignal ? parseSignal(options.stopSignal) : base.stopSignal,
    guards: { ...base.guards, ...options.guards },
    app: options.app ?? (saved ? base.app : path.basename(cwd)),
    cwd,
    metrics: options.metrics === undefined ? base.metrics : options.metrics || undefined,
    logFormat: parseLogFormat(options.logFormat, '--log-format') ?? base.logFormat,
    configFile,
    environment,
    interval: options.interval !== undefined ? parseInterval(options.interval) : base.interval,
  }
  if (!pool.command && !pool.jobs)
    throw usageError(
      "no worker command: pass --command 'bundle exec rake resque:work' (or set RPD_COMMAND), or --jobs ./jobs.js for the built-in worker",
    )
  if (pool.jobs && !pool.redis) pool.redis = 'redis://127.0.0.1:6379'
  requireRedisForRanges(pool)
  compileLimits(pool)
  if (options.fleet) pool.fleet = chooseFleet(options.fleet, dir)
  if (pool.fleet && !pool.redis)
    throw usageError(
      `fleet ${pool.fleet.name} lives in Redis: pass --redis redis://HOST:6379 or set REDIS_URL`,
    )
  return pool
}

function chooseFleet(fleet: NonNullable<StartOptions['fleet']>, dir: string): FleetConfig {
  const hostId = fleet.hostId ?? defaultHostId(dir)
  try {
    fleetKeys(fleet.name).member(hostId)
  } catch (error) {
    throw usageError(errorMessage(error))
  }
  if (!/^[A-Za-z0-9_.:@-]+$/.test(hostId))
    throw usageError(`bad --host-id ${JSON.stringify(hostId)}; use letters, digits and . _ : @ -`)
  const weight = fleet.weight ?? 1
  if (!Number.isFinite(weight) || weight < 0)
    throw usageError(`bad --weight ${JSON.stringify(String(fleet.weight))}; use a number >= 0 such as 2`)
  return { name: fleet.name, hostId, weight }
}

// Automatic groups are sized from what Resque's Redis says: a pool that knows no Redis cannot have them.
export function requireRedisForRanges(pool: PoolConfig): void {
  const automatic = Object.keys(pool.bounds)
  if (automatic.length && !pool.redis)
    throw usageError(
      `${automatic[0]}=${formatRange(pool.bounds[automatic[0]])} is automatic, which needs the pool's Redis: pass --redis redis://HOST:6379 or set REDIS_URL`,
    )
}

// Waits for the new master to write master.pid, or to die trying.
async function awaitMasterBoot(
  paths: StatePaths,
  pid: number,
  reader: LogReader,
  print: Print,
  // Under `rpd run` as PID 1 the child is a reaper in front of the master, so any master of the dir will do.
  anyPid = false,
): Promise<ProcessIdentity> {
  const child = identityOf(pid)
  const seen: string[] = []
  const outcome = await follow<ProcessIdentity | RpdError>({
    dir: paths.dir,
    reader,
    onLine: (line) => {
      seen.push(line)
      print(line)
    },
    timeoutMs: MASTER_BOOT_TIMEOUT_MS,
    check: () => {
      const lookup = findMaster(paths)
      if (lookup.running && (anyPid || lookup.master.pid === pid)) return lookup.master
      if (!child || !isAlive(child)) {
        const reason = seen.filter((line) => line.includes(`[${pid}]: `)).pop()
        // A full disk also keeps the master from saying why in master.log.
        const full = reason ? undefined : spaceProblem(paths.dir, NEAR_FULL_BYTES)
        if (full) return new RpdError(`the master did not start: ${full}`, EXIT_FAILURE, 'NO_SPACE')
        return new RpdError(
          `the master did not start${reason ? `: ${reason.slice(reason.indexOf(']: ') + 3)}` : ''}; see ${paths.log}`,
          EXIT_FAILURE,
          'START_FAILED',
        )
      }
      return undefined
    },
  })
  if (outcome.result instanceof RpdError) throw outcome.result
  if (!outcome.result)
    throw new RpdError(
      `the master (pid ${pid}) did not report in ${MASTER_BOOT_TIMEOUT_MS / 1000} s; see ${paths.log}`,
      EXIT_FAILURE,
      'START_FAILED',
    )
  return outcome.result
}

export interface StartResult {
  master: ProcessIdentity
  // The foreground master's process (or the reaper in front of it), with options.foreground.
  child?: ChildProcess
  pool: PoolConfig
  paths: StatePaths
}

// Starts a pool: writes pool.yml, sets the master going (launched held by prepareStart, which Pool.start
// calls before it loads this module) and (unless wait is false) follows its log until every worker has started.
export async function startPool(
  dir: string,
  options: StartOptions,
  print: Print,
  prepared?: PreparedStart,
): Promise<StartResult> {
  const since = Date.now()
  const { paths, held } = prepared ?? (await prepareStart(dir, options, print))
  // A start that gives up cancels the held master, which then exits without a word.
  let launched
  try {
    launched = await withPoolLock(paths, () => launch(paths, options, held, print))
  } finally {
    held?.cancel()
  }
  const { master, pool, reader, child } = launched
  registerPool(paths.dir, options.env ?? process.env)
  if (child) {
    reader.close()
    return { master, pool, paths, child }
  }
  if (options.wait !== false) {
    const report = reportChanges(options.onProgress)
    await waitForMaster({
      onProgress: report && ((status) => report(measureProgress(status, 'start'))),
      paths,
      master,
      reader,
      print,
      since,
      what: 'starting',
      timeoutMs: options.timeoutMs,
      done: (status) => formationApplied(status, pool.generation),
    })
  }
  reader.close()
  return { master, pool, paths }
}

// Under the pool's lock: chooses and checks the pool, clears what a dead master left, writes pool.yml and
// sets the master going.
async function launch(
  paths: StatePaths,
  options: StartOptions,
  held: HeldMaster | undefined,
  print: Print,
): Promise<{ master: ProcessIdentity; pool: PoolConfig; reader: LogReader; child?: ChildProcess }> {
  const saved = readPool(paths)
  const pool = choosePool(options, saved, print, paths.dir)
  // Built-in workers need their jobs module and Redis: fail here with one clear line, not in a respawn loop.
  if (pool.jobs) await (await import('../resque/preflight.js')).checkBuiltinPool(pool)
  const lookup = findMaster(paths)
  if (lookup.running)
    throw new RpdError(
      `already running (pid ${lookup.master.pid}): see rpd status, or rpd stop first`,
      EXIT_FAILURE,
      'ALREADY_RUNNING',
    )
  if (lookup.found) print(`found ${lookup.found}: starting afresh`)
  const leftovers = findLeftovers(readStatusFile(paths), paths.dir)
  if (leftovers.length) {
    print(
      `stopping ${leftovers.length} workers left by a dead master: ${leftovers.map((w) => w.pid).join(', ')}`,
    )
    await stopLeftovers(leftovers, pool.stopSignal as NodeJS.Signals)
  }
  await stopOrphans(paths.dir, print)
  const next = { ...pool, generation: (saved?.generation ?? 0) + 1 }
  writePool(paths, next)
  const reader = new LogReader(paths.log, logSize(paths.log))
  if (options.foreground) {
    const child = launchForegroundMaster(paths, next.cwd, print)
    const quiet = () => undefined
    const master = await awaitMasterBoot(paths, child.pid ?? 0, reader, quiet, child.pid !== undefined)
    return { master, pool: next, reader, child }
  }
  // Held since before the lock, or (a master was running then, and is gone now) launched now.
  const master = held ?? launchHeldMaster(paths, next.cwd)
  master.release(poolDocument(next))
  return { master: await awaitMasterBoot(paths, master.pid, reader, print), pool: next, reader }
}
