import type * as Lockfile from 'proper-lockfile'
import { EXIT_FAILURE, RpdError, errorMessage } from '../errors.js'
import { type PoolConfig, defaultPool, readPool, writePool } from './pool-file.js'
import type { StatePaths } from './state-dir.js'
import { requireVendored } from './vendored.js'

// proper-lockfile and graceful-fs: 8-12 ms to load from node_modules, under 5 ms bundled.
const lockfile = requireVendored<typeof Lockfile>('proper-lockfile')

// Generous: 20 concurrent `rpd scale` calls must all get the lock.
const LOCK_RETRIES = { retries: 200, factor: 1.2, minTimeout: 10, maxTimeout: 100, randomize: true }
const LOCK_STALE_MS = 10_000

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
      EXIT_FAILURE,
      'LOCKED',
    )
  }
  try {
    const result = await fn()
    if (compromised)
      throw new RpdError(
        `lost the lock ${paths.lock} while writing: ${compromised.message}; try again`,
        EXIT_FAILURE,
        'LOCKED',
      )
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
