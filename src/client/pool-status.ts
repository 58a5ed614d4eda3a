import type { Formation } from '../state/formation.js'
import { findMaster, isMasterOf, masterNotResponding } from '../state/master-pid.js'
import {
  type ProcStat,
  type ProcessIdentity,
  isAlive,
  listProcesses,
  readCmdline,
  readEnviron,
  readUser,
} from '../proc/process-identity.js'
import { DEFAULT_NAMESPACE } from '../resque/keys.js'
import { type PoolProcess, findPoolProcesses } from '../proc/pool-processes.js'
import { isMasterCmdline } from '../paths.js'
import type { ResqueStats, ResqueStatsResult } from '../resque/read-stats.js'
import { type StatePaths, inspectStateDir, statePaths } from '../state/state-dir.js'
import {
  type AutoscaleReport,
  type FleetReport,
  type StatusFile,
  type WorkerStatus,
  readStatusFile,
} from '../state/status-file.js'
import { withActivity } from './worker-activity.js'

export interface PoolStatus {
  running: boolean
  pid: number | null
  stateDir: string
  generation: number
  formation: Formation
  workers: WorkerStatus[]
  state: 'running' | 'stopping' | 'stopped'
  app?: string
  startedAt?: string
  uptimeSeconds?: number
  paused?: boolean
  redisUrl?: string
  namespace?: string
  // Queue depths and totals read from Redis, for pools of built-in workers.
  resque?: ResqueStatsResult
  // What a stale master.pid held, when the master is not running.
  found?: string
  // Workers a dead master left behind, still alive (verified by pid and start time).
  leftovers: WorkerStatus[]
  autoscale?: Record<string, AutoscaleReport>
  guards?: StatusFile['guards']
  schedule?: StatusFile['schedule']
  // The master's process tree, read for text output only (see readStatusWithTree).
  tree?: ProcessNode
  // Processes proved the pool's by their environment, outside every listed worker's process group: children
  // a dead worker left, daemons in new sessions, workers spawned as a master died.
  strays?: PoolProcess[]
  fleet?: FleetReport
  // Why the live master cannot act (SIGSTOPped): its status.json stays as it was.
  notResponding?: string
}

// The status plus, for a pool of built-in workers, Resque's queue depths and totals read from Redis.
// ioredis is loaded only for such pools, so plain `status` stays light.
export async function readFullStatus(dir: string): Promise<PoolStatus> {
  const status = readPoolStatus(dir)
  if (!status.running || !status.redisUrl) return status
  const { readResqueStatsSafely } = await import('../resque/read-stats.js')
  return {
    ...status,
    resque: await readResqueStatsSafely(status.redisUrl, status.namespace || DEFAULT_NAMESPACE),
  }
}

// Live workers a dead master left behind, named in its last status.json: same pid and start time,
// and started for this state directory.
export function findLeftovers(status: StatusFile | undefined, dir: string): WorkerStatus[] {
  return (status?.workers ?? []).filter((worker) => worker.state !== 'backoff' && isPoolWorker(worker, dir))
}

// A process whose environment cannot be read (a setuid program, another user's) is not proved ours: never signal it.
export function isPoolWorker(worker: ProcessIdentity, dir: string): boolean {
  return isAlive(worker) && readEnviron(worker.pid)?.RPD_STATE_DIR === dir
}

// The pool's processes /proc shows outside the master and the process groups of the workers listed.
export function findStrays(
  dir: string,
  master: number | null,
  workers: readonly ProcessIdentity[],
): PoolProcess[] {
  const groups = new Set(workers.filter(isAlive).map((w) => w.pid))
  const found = findPoolProcesses(dir)
  // A worker the live master has just spawned leads its own group a moment before status.json lists it.
  for (const p of found) if (master !== null && p.ppid === master && p.pgrp === p.pid) groups.add(p.pid)
  return found.filter((p) => p.pid !== master && !groups.has(p.pgrp) && !isMasterCmdline(p.command))
}

// The pool's processes no live master of it started (their master died): what stop and start end.
export function findOrphans(dir: string): PoolProcess[] {
  return findPoolProcesses(dir).filter((p) => !isMasterCmdline(p.command) && !isMasterOf(p.masterPid, dir))
}

// Reads the pool's state from status.json, trusting it only as far as /proc confirms the master.
export function readPoolStatus(dir: string): PoolStatus {
  const paths: StatePaths = statePaths(dir)
  const base = { stateDir: dir, leftovers: [] as WorkerStatus[], strays: [] as PoolProcess[] }
  if (!inspectStateDir(dir))
    return { ...base, running: false, pid: null, generation: 0, formation: {}, workers: [], state: 'stopped' }
  const lookup = findMaster(paths)
  const status = readStatusFile(paths)
  const sameMaster =
    lookup.running &&
    status &&
    status.pid === lookup.master.pid &&
    status.startTime === lookup.master.startTime
  if (!lookup.running || !sameMaster) {
    const leftovers = lookup.running ? [] : findLeftovers(status, dir)
    const master = lookup.running ? lookup.master.pid : null
    return {
      ...base,
      running: lookup.running,
      pid: lookup.running ? lookup.master.pid : null,
      generation: status?.generation ?? 0,
      formation: {},
      workers: [],
      state: lookup.running ? 'running' : 'stopped',
      found: lookup.running
        ? `${paths.status} is missing or stale: rpd reload makes the master rewrite it`
        : lookup.found,
      leftovers,
      strays: findStrays(dir, master, lookup.running ? (status?.workers ?? []) : leftovers),
    }
  }
  const startedAt = Date.parse(status.startedAt)
  const notResponding = masterNotResponding(lookup.master)
  return {
    ...base,
    ...(notResponding ? { notResponding } : {}),
    running: true,
    pid: status.pid,
    generation: status.generation,
    formation: status.formation,
    workers: withActivity(status.workers),
    state: status.state,
    app: status.app,
    startedAt: status.startedAt,
    uptimeSeconds: Math.max(0, Math.round((Date.now() - startedAt) / 1000)),
    paused: status.paused,
    redisUrl: status.redis,
    namespace: status.namespace,
    ...(status.autoscale ? { autoscale: status.autoscale } : {}),
    ...(status.guards ? { guards: status.guards } : {}),
    ...(status.schedule ? { schedule: status.schedule } : {}),
    strays: findStrays(dir, status.pid, status.workers),
    ...(status.fleet ? { fleet: status.fleet } : {}),
  }
}

// The JSON `rpd status --json` prints and Pool.status() returns (keys may be added, never changed).
export interface StatusJson {
  running: boolean
  pid: number | null
  stateDir: string
  generation: number
  formation: Formation
  workers: WorkerJson[]
  state: 'running' | 'stopping' | 'stopped'
  uptimeSeconds?: number
  paused?: boolean
  found?: string
  leftovers?: WorkerJson[]
  // Present when there are any: see PoolStatus.strays.
  strays?: StrayJson[]
  redis?: ResqueStats | { error: string }
  // Per automatic group: bounds, desired count, the last decision, its reason and inputs.
  autoscale?: Record<string, AutoscaleReport>
  guards?: StatusFile['guards']
  schedule?: StatusFile['schedule']
  // A fleet member's view of its fleet: members, the fleet's targets, its share, the lease holder.
  fleet?: FleetReport
  // Present while the master is SIGSTOPped or traced: what is wrong and how to resume it.
  notResponding?: string
}

export interface WorkerJson {
  pid: number
  queues: string
  // The process title now (`resque-2.7.0: Processing foo since ...`); empty while waiting to respawn.
  title?: string
  state: WorkerStatus['state']
  startedAt: string
  restarts: number
  lastExit: WorkerStatus['lastExit']
  nextAttemptAt?: string
  // Why the slot has no process now; pid is 0 when it never had one.
  problem?: string
  job?: WorkerStatus['job'] | null
  paused?: boolean
}

export interface StrayJson {
  pid: number
  command: string
  queues?: string
  masterPid: number
}

export function statusJson(status: PoolStatus): StatusJson {
  const worker = (w: WorkerStatus): WorkerJson => ({
    pid: w.pid,
    queues: w.queues,
    ...('title' in w ? { title: (w as { title: string }).title } : {}),
    state: w.state,
    startedAt: w.startedAt,
    restarts: w.restarts,
    lastExit: w.lastExit,
    ...(w.nextAttemptAt ? { nextAttemptAt: w.nextAttemptAt } : {}),
    ...(w.problem ? { problem: w.problem } : {}),
    ...('job' in w ? { job: w.job ?? null } : {}),
    ...('paused' in w ? { paused: w.paused } : {}),
  })
  return {
    running: status.running,
    pid: status.pid,
    stateDir: status.stateDir,
    generation: status.generation,
    formation: status.formation,
    workers: status.workers.map(worker),
    state: status.state,
    ...(status.uptimeSeconds !== undefined ? { uptimeSeconds: status.uptimeSeconds } : {}),
    ...(status.paused !== undefined ? { paused: status.paused } : {}),
    ...(status.found ? { found: status.found } : {}),
    ...(status.notResponding ? { notResponding: status.notResponding } : {}),
    ...(status.running ? {} : { leftovers: status.leftovers.map(worker) }),
    ...(status.strays?.length
      ? {
          strays: status.strays!.map((p) => ({
            pid: p.pid,
            command: p.command,
            ...(p.queues !== undefined ? { queues: p.queues } : {}),
            masterPid: p.masterPid,
          })),
        }
      : {}),
    ...(status.resque
      ? { redis: 'stats' in status.resque ? status.resque.stats : { error: status.resque.error } }
      : {}),
    ...(status.autoscale ? { autoscale: status.autoscale } : {}),
    ...(status.guards ? { guards: status.guards } : {}),
    ...(status.schedule ? { schedule: status.schedule } : {}),
    ...(status.fleet ? { fleet: status.fleet } : {}),
  }
}

// A process of the tree status draws: the master, its workers and their children (a Ruby worker's forked job).
export interface ProcessNode {
  pid: number
  user: string
  title: string
  children: ProcessNode[]
}

// Reads the master and its live descendants from the process table, each level by pid.
export function readProcessTree(rootPid: number): ProcessNode {
  const children = new Map<number, ProcStat[]>()
  for (const proc of listProcesses()) {
    if (proc.state === 'Z') continue
    const siblings = children.get(proc.ppid) ?? []
    siblings.push(proc)
    children.set(proc.ppid, siblings)
  }
  const read = (pid: number, title: string): ProcessNode => ({
    pid,
    user: readUser(pid),
    title,
    // A process that exited while we looked has no command line left: leave it out.
    children: (children.get(pid) ?? [])
      .map((kid) => ({ pid: kid.pid, title: readCmdline(kid.pid) }))
      .filter((kid) => kid.title !== '')
      .sort((a, b) => a.pid - b.pid)
      .map((kid) => read(kid.pid, kid.title)),
  })
  return read(rootPid, readCmdline(rootPid))
}

// The status as `rpd status` draws it: with the process tree when the master runs.
export async function readStatusWithTree(dir: string): Promise<PoolStatus> {
  return addProcessTree(await readFullStatus(dir))
}

export function addProcessTree(status: PoolStatus): PoolStatus {
  return status.running && status.pid !== null && !status.found
    ? { ...status, tree: readProcessTree(status.pid) }
    : status
}
