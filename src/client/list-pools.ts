import fs from 'node:fs'
import { MASTER_TITLE_PREFIX } from '../paths.js'
import { listProcesses, readCmdline, readEnviron } from '../proc/process-identity.js'
import type { Formation } from '../state/formation.js'
import { readRegistry, unregisterPool } from '../state/pool-registry.js'
import { readPoolStatus } from './pool-status.js'
import { formatUptime } from '../present/status-text.js'
import { formatFormation } from '../state/formation.js'

export interface PoolListing {
  stateDir: string
  pid: number
  app?: string
  formation: Formation
  uptimeSeconds?: number
  workers: number
}

// State directories of this user's running masters, from their titles and environments.
function scanMasters(): string[] {
  const uid = process.getuid?.()
  const dirs: string[] = []
  for (const proc of listProcesses()) {
    if (!readCmdline(proc.pid).startsWith(MASTER_TITLE_PREFIX)) continue
    if (uid !== undefined && ownerOf(proc.pid) !== uid) continue
    const dir = readEnviron(proc.pid)?.RPD_STATE_DIR
    if (dir) dirs.push(dir)
  }
  return dirs
}

function ownerOf(pid: number): number | undefined {
  try {
    return fs.statSync(`/proc/${pid}`).uid
  } catch {
    return undefined
  }
}

// Every running pool of this user on this host; registry entries of pools no longer running are dropped.
export function listPools(env: NodeJS.ProcessEnv = process.env): PoolListing[] {
  const registered = readRegistry(env)
  let scanned: string[] = []
  try {
    scanned = scanMasters()
  } catch {
    // no /proc: the registry alone
  }
  const pools: PoolListing[] = []
  for (const dir of new Set([...registered, ...scanned])) {
    let status: ReturnType<typeof readPoolStatus>
    try {
      status = readPoolStatus(dir)
    } catch {
      continue
    }
    if (!status.running || status.pid === null) {
      if (registered.includes(dir)) unregisterPool(dir, env)
      continue
    }
    pools.push({
      stateDir: dir,
      pid: status.pid,
      app: status.app,
      formation: status.formation,
      uptimeSeconds: status.uptimeSeconds,
      workers: status.workers.length,
    })
  }
  return pools.sort((a, b) => a.stateDir.localeCompare(b.stateDir))
}

export function formatPoolList(pools: readonly PoolListing[]): string[] {
  if (!pools.length) return ['no pools running']
  return pools.map(
    (pool) =>
      `${pool.stateDir}  pid ${pool.pid}  ${pool.app ?? '?'}  ${formatFormation(pool.formation) || '(no workers)'}  up ${formatUptime(pool.uptimeSeconds ?? 0)}`,
  )
}
