import { type Formation, applyChanges, formatFormation, parseChanges, sameSpec } from '../state/formation.js'
import { LogReader, logSize } from '../state/log-tail.js'
import { findMaster } from '../state/master-pid.js'
import { type PoolConfig, readPool } from '../state/pool-file.js'
import { updatePool } from '../state/pool-lock.js'
import { type Print, formationApplied, waitForMaster } from './pool-wait.js'
import { signalVerified } from '../proc/process-identity.js'
import { RpdError } from '../errors.js'
import { requireMaster } from './signal-master.js'
import { environmentFor, readResquePoolFile } from '../state/resque-pool-config.js'
import { ensureStateDir, type StatePaths } from '../state/state-dir.js'
import type { StatusFile } from '../state/status-file.js'

export interface ApplyOptions {
  wait?: boolean
  timeoutMs?: number
}

export type ApplyOutcome =
  | { kind: 'unchanged'; pool: PoolConfig }
  | { kind: 'saved'; pool: PoolConfig }
  | { kind: 'signalled' | 'applied'; pool: PoolConfig; status?: StatusFile }

// Tells a running master (HUP) to re-read pool.yml, then follows its log until done() holds.
async function applyToMaster(
  paths: StatePaths,
  pool: PoolConfig,
  options: ApplyOptions,
  print: Print,
  what: string,
  done: (status: StatusFile) => boolean,
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
    })
    return { kind: 'applied', pool, status }
  } finally {
    reader.close()
  }
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
  const { after, changed } = await updatePool(paths, (pool) => {
    const spec = applyChanges(pool, changes)
    return sameSpec(spec, pool) ? undefined : { ...pool, ...spec }
  })
  if (!changed) return { kind: 'unchanged', pool: after }
  return applyToMaster(
    paths,
    after,
    options,
    print,
    `scaling to ${formatFormation(after.formation, after.bounds) || 'no workers'}`,
    (status) => formationApplied(status, after.generation),
  )
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
    print(`formation from ${file}: ${describeFormation(pool.formation)}`)
  }
  const outcome = await applyToMaster(paths, pool, options, print, 'reloading', (status) =>
    formationApplied(status, pool.generation),
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
  const outcome = await applyToMaster(paths, after, options, print, 'restarting', (status) =>
    restartDone(status, after, targets),
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

export function describeFormation(formation: Formation): string {
  return formatFormation(formation) || '(no workers)'
}
