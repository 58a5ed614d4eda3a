import { type Formation, applyChanges, formatFormation, parseChanges, sameSpec } from '../state/formation.js'
import { LogReader, logSize } from '../state/log-tail.js'
import { findMaster } from '../state/master-pid.js'
import { type GuardConfig, type PoolConfig, readPool } from '../state/pool-file.js'
import { compileLimits } from '../autoscale/limits-config.js'
import { updatePool } from '../state/pool-lock.js'
import { type MeasureProgress, type Print, formationApplied, waitForMaster } from './pool-wait.js'
import { type OnProgress, measureProgress, reportChanges } from './progress-report.js'
import { signalVerified } from '../proc/process-identity.js'
import { RpdError } from '../errors.js'
import { requireMaster } from './signal-master.js'
import { environmentFor, readResquePoolFile } from '../state/resque-pool-config.js'
import { ensureStateDir, type StatePaths } from '../state/state-dir.js'
import type { StatusFile } from '../state/status-file.js'

export interface ApplyOptions {
  wait?: boolean
  timeoutMs?: number
  onProgress?: OnProgress
}

export type ApplyOutcome = (
  | { kind: 'unchanged'; pool: PoolConfig }
  | { kind: 'saved'; pool: PoolConfig }
  | { kind: 'signalled' | 'applied'; pool: PoolConfig; status?: StatusFile }
) & {
  // Automatic groups this change made manual (scaled to a count).
  manual?: string[]
}

// Tells a running master (HUP) to re-read pool.yml, then follows its log until done() holds.
async function applyToMaster(
  paths: StatePaths,
  pool: PoolConfig,
  options: ApplyOptions,
  print: Print,
  what: string,
  done: (status: StatusFile) => boolean,
  measure: MeasureProgress = (status) => measureProgress(status, 'scale'),
): Promise<ApplyOutcome> {
  const lookup = findMaster(paths)
  if (!lookup.running) return { kind: 'saved', pool }
  const since = Date.now()
  const reader = new LogReader(paths.log, logSize(paths.log))
  try {
    if (!signalVerified(lookup.master, 'SIGHUP')) return { kind: 'saved', pool }
    if (options.wait === false) return { kind: 'signalled', pool }
    const status = await waitForMaster({
      paths,
      master: lookup.master,
      reader,
      print,
      since,
      what,
      timeoutMs: options.timeoutMs,
      done,
      onProgress: progressFrom(options.onProgress, measure),
    })
    return { kind: 'applied', pool, status }
  } finally {
    reader.close()
  }
}

function progressFrom(onProgress: OnProgress | undefined, measure: MeasureProgress) {
  const report = reportChanges(onProgress)
  return report && ((status: StatusFile) => report(measure(status)))
}

// Merges changes (foo=4, foo=+2, foo=-1, foo=0) into pool.yml under the lock and applies them to a running pool.
export async function scalePool(
  dir: string,
  specs: readonly string[],
  options: ApplyOptions,
  print: Print,
): Promise<ApplyOutcome> {
  const changes = parseChanges(specs)
  const paths = ensureStateDir(dir)
  const { before, after, changed } = await updatePool(paths, (pool) => {
    const spec = applyChanges(pool, changes)
    return sameSpec(spec, pool) ? undefined : { ...pool, ...spec }
  })
  if (!changed) return { kind: 'unchanged', pool: after }
  const manual = Object.keys(before.bounds).filter(
    (group) => !after.bounds[group] && group in after.formation,
  )
  const outcome = await applyToMaster(
    paths,
    after,
    options,
    print,
    `scaling to ${formatFormation(after.formation, after.bounds) || 'no workers'}`,
    (status) => formationApplied(status, after.generation),
  )
  return { ...outcome, manual }
}

// Whether the master runs the groups pool.yml names, each at its count (an automatic group: within its bounds).
// A hand edit keeps the generation, so only this says the master has read it.
export function formationMatches(
  running: Formation,
  pool: Pick<PoolConfig, 'formation' | 'bounds'>,
): boolean {
  const groups = new Set([...Object.keys(running), ...Object.keys(pool.formation)])
  return [...groups].every((group) => {
    const count = running[group] ?? 0
    const range = pool.bounds[group]
    return range ? count >= range.min && count <= range.max : count === (pool.formation[group] ?? 0)
  })
}

// Re-reads pool.yml (after a hand edit), and the resque-pool.yml its formation came from, and reopens
// master.log (after rotation).
export async function reloadPool(dir: string, options: ApplyOptions, print: Print): Promise<ApplyOutcome> {
  const paths = ensureStateDir(dir)
  const saved = readPool(paths)
  if (!saved) throw new RpdError(`${paths.pool} does not exist: start a pool with rpd start`)
  let pool = saved
  if (saved.configFile) {
    const file = saved.configFile
    const env = environmentFor(process.env, saved.environment)
    pool = (
      await updatePool(paths, (current) => {
        const spec = { formation: readResquePoolFile(file, current.cwd, env).formation, bounds: {} }
        return sameSpec(spec, current) ? undefined : { ...current, ...spec }
      })
    ).after
    print(`formation from ${file}: ${formatFormation(pool.formation) || '(no workers)'}`)
  }
  const outcome = await applyToMaster(
    paths,
    pool,
    options,
    print,
    'reloading',
    (status) => formationMatches(status.formation, pool) && formationApplied(status, pool.generation),
    (status) => measureProgress(status, 'reload'),
  )
  if (outcome.kind === 'saved') throw new RpdError('not running: start a pool with rpd start', 3)
  return outcome
}

// Rolling restart: each worker of the groups gets a replacement first, then is stopped gracefully.
export async function restartPool(
  dir: string,
  groups: readonly string[],
  options: ApplyOptions,
  print: Print,
): Promise<ApplyOutcome> {
  // A stopped pool has nothing to restart: refuse before pool.yml is touched.
  requireMaster(dir)
  const paths = ensureStateDir(dir)
  let targets: string[] = []
  const { after } = await updatePool(paths, (pool) => {
    targets = groups.length ? [...groups] : Object.keys(pool.formation)
    const unknown = targets.filter((group) => !(group in pool.formation))
    if (unknown.length)
      throw new RpdError(
        `no queue group ${JSON.stringify(unknown[0])} in the formation (${formatFormation(pool.formation) || 'empty'})`,
        2,
      )
    const restartEpochs = { ...pool.restartEpochs }
    for (const group of targets) restartEpochs[group] = (restartEpochs[group] ?? 0) + 1
    return { ...pool, restartEpochs }
  })
  const epochs = Object.fromEntries(targets.map((group) => [group, after.restartEpochs[group] ?? 0]))
  const outcome = await applyToMaster(
    paths,
    after,
    options,
    print,
    'restarting',
    (status) => restartDone(status, after, targets),
    (status) => measureProgress(status, 'restart', epochs),
  )
  if (outcome.kind === 'saved') throw new RpdError('not running: start a pool with rpd start', 3)
  return outcome
}

function restartDone(status: StatusFile, pool: PoolConfig, groups: readonly string[]): boolean {
  if (!formationApplied(status, pool.generation)) return false
  return groups.every((group) =>
    status.workers
      .filter((w) => w.queues === group && w.state !== 'stopping')
      .every((w) => w.epoch >= (pool.restartEpochs[group] ?? 0) && w.state === 'running'),
  )
}

export interface AutoscaleChange {
  // One group's knobs, or (without a group) the pool-wide ones.
  group?: string
  targetLatency?: number
  downAfter?: number
  dryRun?: boolean
  // Guards and the budget to merge into pool.yml's (pool-wide).
  guards?: GuardConfig
}

// Sets autoscaling knobs in pool.yml under the lock and has a running master take them (HUP).
export async function configureAutoscale(
  dir: string,
  change: AutoscaleChange,
  options: ApplyOptions,
  print: Print,
): Promise<ApplyOutcome> {
  const paths = ensureStateDir(dir)
  const { after, changed } = await updatePool(paths, (pool) => {
    if (change.group !== undefined && !pool.bounds[change.group])
      throw new RpdError(
        `${change.group} is not an automatic group (${formatFormation(pool.formation, pool.bounds) || 'no groups'}): make it one with rpd scale ${change.group}=MIN..MAX`,
        2,
      )
    const autoscale = structuredClone(pool.autoscale)
    const knobs = change.group === undefined ? autoscale : ((autoscale.groups ??= {})[change.group] ??= {})
    if (change.targetLatency !== undefined) knobs.targetLatency = change.targetLatency
    if (change.downAfter !== undefined) knobs.downAfter = change.downAfter
    if (change.dryRun !== undefined) {
      if (change.dryRun) autoscale.dryRun = true
      else delete autoscale.dryRun
    }
    const guards = { ...pool.guards, ...change.guards }
    const next = { ...pool, autoscale, guards }
    compileLimits(next)
    const same = JSON.stringify([autoscale, guards]) === JSON.stringify([pool.autoscale, pool.guards])
    return same ? undefined : next
  })
  if (!changed) return { kind: 'unchanged', pool: after }
  return applyToMaster(paths, after, options, print, 'changing the autoscaling policy', (status) =>
    formationApplied(status, after.generation),
  )
}

// Applies a pool.yml written under the lock to a running master and waits until it runs the new generation.
export function applyPoolChange(
  paths: StatePaths,
  pool: PoolConfig,
  options: ApplyOptions,
  print: Print,
  what: string,
): Promise<ApplyOutcome> {
  return applyToMaster(paths, pool, options, print, what, (status) =>
    formationApplied(status, pool.generation),
  )
}
