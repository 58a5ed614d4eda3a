import path from 'node:path'
import lockfile from 'proper-lockfile'
import YAML from 'yaml'
import { writeFileAtomic, readFileIfExists } from './atomic-file.js'
import { RpdError, usageError, errorMessage } from './errors.js'
import { type Formation, validateFormation, validateGroup } from './formation.js'
import { parseSignal } from './signals.js'
import type { StatePaths } from './state-dir.js'

// What pool.yml holds: the desired state. Only the CLI writes it (under the lock); the master reads it.
export interface PoolConfig {
  generation: number
  formation: Formation
  // A Procfile-style worker command; absent when the built-in worker runs `jobs`.
  command?: string
  jobs?: string
  redis?: string
  namespace?: string
  stopSignal: string
  app: string
  cwd: string
  // Bumped per group by `rpd restart`: workers spawned under an older epoch are replaced.
  restartEpochs: Record<string, number>
}

export const DEFAULT_STOP_SIGNAL = 'SIGQUIT'
// Generous: 20 concurrent `rpd scale` calls must all get the lock.
const LOCK_RETRIES = { retries: 200, factor: 1.2, minTimeout: 10, maxTimeout: 100, randomize: true }
const LOCK_STALE_MS = 10_000

export function defaultPool(cwd: string = process.cwd()): PoolConfig {
  return {
    generation: 0,
    formation: {},
    stopSignal: DEFAULT_STOP_SIGNAL,
    app: path.basename(cwd) || 'rpd',
    cwd,
    restartEpochs: {},
  }
}

function optionalString(doc: Record<string, unknown>, key: string, file: string): string | undefined {
  const value = doc[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || value.trim() === '')
    throw usageError(`${file}: ${key} must be a non-empty string`)
  return value
}

// Parses and checks pool.yml text; every problem is one line naming the file.
export function parsePool(text: string, file: string): PoolConfig {
  let doc: unknown
  try {
    doc = YAML.parse(text)
  } catch (error) {
    throw usageError(
      `${file} is not valid YAML (${errorMessage(error).split('\n')[0]}): fix it or rewrite it with rpd scale`,
    )
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw usageError(`${file} does not hold a pool (a mapping with formation:): fix it or remove it`)
  const record = doc as Record<string, unknown>
  const base = defaultPool(optionalString(record, 'cwd', file) ?? process.cwd())
  const generation = record.generation ?? 0
  if (typeof generation !== 'number' || !Number.isInteger(generation) || generation < 0)
    throw usageError(`${file}: generation must be a whole number`)
  const epochs = validateFormationLike(record.restartEpochs, `${file}: restartEpochs`)
  const stopSignal = optionalString(record, 'stopSignal', file)
  return {
    ...base,
    generation,
    formation: validateFormation(record.formation, file),
    command: optionalString(record, 'command', file),
    jobs: optionalString(record, 'jobs', file),
    redis: optionalString(record, 'redis', file),
    namespace: optionalString(record, 'namespace', file),
    stopSignal: stopSignal ? parseSignal(stopSignal) : DEFAULT_STOP_SIGNAL,
    app: optionalString(record, 'app', file) ?? base.app,
    restartEpochs: epochs,
  }
}

function validateFormationLike(value: unknown, where: string): Record<string, number> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw usageError(`${where} must be a mapping`)
  for (const [group, n] of Object.entries(value)) {
    validateGroup(group)
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw usageError(`${where}.${group} must be a whole number`)
  }
  return value as Record<string, number>
}

export function formatPool(pool: PoolConfig): string {
  const doc: Record<string, unknown> = {
    generation: pool.generation,
    formation: pool.formation,
    command: pool.command,
    jobs: pool.jobs,
    redis: pool.redis,
    namespace: pool.namespace,
    stopSignal: pool.stopSignal,
    app: pool.app,
    cwd: pool.cwd,
    restartEpochs: pool.restartEpochs,
  }
  for (const key of Object.keys(doc)) if (doc[key] === undefined) delete doc[key]
  return YAML.stringify(doc)
}

// The saved pool, or undefined when there is no pool.yml.
export function readPool(paths: StatePaths): PoolConfig | undefined {
  let text: string | undefined
  try {
    text = readFileIfExists(paths.pool)
  } catch (error) {
    throw new RpdError(`cannot read ${paths.pool}: ${errorMessage(error)}`)
  }
  return text === undefined ? undefined : parsePool(text, paths.pool)
}

export function writePool(paths: StatePaths, pool: PoolConfig): void {
  try {
    writeFileAtomic(paths.pool, formatPool(pool))
  } catch (error) {
    throw new RpdError(`cannot write ${paths.pool}: ${errorMessage(error)}`)
  }
}

// Runs fn while holding the state directory's lock, which serialises every writer of pool.yml.
export async function withPoolLock<T>(paths: StatePaths, fn: () => T | Promise<T>): Promise<T> {
  let compromised: Error | undefined
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(paths.pool, {
      lockfilePath: paths.lock,
      realpath: false,
      retries: LOCK_RETRIES,
      stale: LOCK_STALE_MS,
      onCompromised: (error) => {
        compromised = error
      },
    })
  } catch (error) {
    throw new RpdError(
      `cannot lock ${paths.lock}: ${errorMessage(error)}; if no rpd command is running, remove it`,
    )
  }
  try {
    const result = await fn()
    if (compromised)
      throw new RpdError(`lost the lock ${paths.lock} while writing: ${compromised.message}; try again`)
    return result
  } finally {
    await release().catch(() => undefined)
  }
}

// Reads pool.yml (or a fresh default), lets update change it, bumps the generation and writes it, all under the lock.
export async function updatePool(
  paths: StatePaths,
  update: (pool: PoolConfig) => PoolConfig | undefined,
): Promise<{ before: PoolConfig; after: PoolConfig; changed: boolean }> {
  return withPoolLock(paths, () => {
    const before = readPool(paths) ?? defaultPool()
    const next = update(structuredClone(before))
    if (!next) return { before, after: before, changed: false }
    const after = { ...next, generation: before.generation + 1 }
    writePool(paths, after)
    return { before, after, changed: true }
  })
}
