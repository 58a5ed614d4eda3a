import { EXIT_NOT_RUNNING } from '../errors.js'
import type { Formation } from '../state/formation.js'
import { findMaster } from '../state/master-pid.js'
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
import { redactUrl } from '../resque/redis-url.js'
import type { ResqueStats, ResqueStatsResult } from '../resque/read-stats.js'
import { type StatePaths, inspectStateDir, statePaths } from '../state/state-dir.js'
import { type StatusFile, type WorkerStatus, readStatusFile } from '../state/status-file.js'
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
// and (where /proc lets us read it) started for this state directory.
export function findLeftovers(status: StatusFile | undefined, dir: string): WorkerStatus[] {
  return (status?.workers ?? []).filter((worker) => worker.state !== 'backoff' && isPoolWorker(worker, dir))
}

export function isPoolWorker(worker: ProcessIdentity, dir: string): boolean {
  if (!isAlive(worker)) return false
  const env = readEnviron(worker.pid)
  return env === undefined || env.RPD_STATE_DIR === dir
}

// Reads the pool's state from status.json, trusting it only as far as /proc confirms the master.
export function readPoolStatus(dir: string): PoolStatus {
  const paths: StatePaths = statePaths(dir)
  const base = { stateDir: dir, leftovers: [] as WorkerStatus[] }
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
    }
  }
  const startedAt = Date.parse(status.startedAt)
  return {
    ...base,
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
  redis?: ResqueStats | { error: string }
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
  job?: WorkerStatus['job'] | null
  paused?: boolean
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
    ...(status.running ? {} : { leftovers: status.leftovers.map(worker) }),
    ...(status.resque
      ? { redis: 'stats' in status.resque ? status.resque.stats : { error: status.resque.error } }
      : {}),
  }
}

export function formatUptime(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  const pad = (n: number) => String(n).padStart(2, '0')
  return h ? `${h}h ${pad(m)}m ${pad(s)}s` : m ? `${m}m ${pad(s)}s` : `${s}s`
}

// A queue group as a YAML key: quoted when it is not a plain word.
export function formatGroupKey(group: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_.,-]*$/.test(group) ? group : JSON.stringify(group)
}

export function formatFormationLines(formation: Formation, indent = '  '): string[] {
  const entries = Object.entries(formation)
  return entries.length === 0
    ? [`${indent}(no workers)`]
    : entries.map(([group, count]) => `${indent}${formatGroupKey(group)}: ${count}`)
}

function workerNote(worker: WorkerStatus): string {
  const parts = [worker.queues, worker.state]
  if (worker.restarts) parts.push(`restarts ${worker.restarts}`)
  if (worker.job) parts.push(`busy: ${worker.job.class} on ${worker.job.queue} since ${worker.job.since}`)
  else if ('job' in worker && worker.state === 'running') parts.push('idle')
  if (worker.paused) parts.push('paused')
  return `(${parts.join(', ')})`
}

// Draws the master and its descendants like pstree: pid, user, title; each worker annotated with its slot.
export function drawProcessTree(rootPid: number, workers: readonly WorkerStatus[]): string[] {
  const processes = listProcesses()
  const children = new Map<number, ProcStat[]>()
  for (const proc of processes) {
    if (proc.state === 'Z') continue
    const siblings = children.get(proc.ppid) ?? []
    siblings.push(proc)
    children.set(proc.ppid, siblings)
  }
  const byPid = new Map(workers.map((worker) => [worker.pid, worker]))
  const label = (pid: number) => {
    const worker = byPid.get(pid)
    return `${pid} ${readUser(pid)} ${readCmdline(pid)}${worker ? `  ${workerNote(worker)}` : ''}`
  }
  const lines = [`-+= ${label(rootPid)}`]
  const walk = (pid: number, prefix: string) => {
    // A process that exited while we looked has no command line left: leave it out.
    const kids = (children.get(pid) ?? [])
      .filter((kid) => readCmdline(kid.pid) !== '')
      .sort((a, b) => a.pid - b.pid)
    kids.forEach((kid, i) => {
      const last = i === kids.length - 1
      const hasKids = (children.get(kid.pid)?.length ?? 0) > 0
      lines.push(`${prefix}${last ? '\\' : '|'}-${hasKids ? '+' : '-'}- ${label(kid.pid)}`)
      walk(kid.pid, `${prefix}${last ? ' ' : '|'}  `)
    })
  }
  walk(rootPid, ' ')
  return lines
}

// What `rpd status [--json]` prints; returns the exit code (0 running, 3 not).
export async function reportStatus(
  dir: string,
  json: boolean,
  write: (line: string) => void,
): Promise<number> {
  const status = await readFullStatus(dir)
  if (json) write(JSON.stringify(statusJson(status), null, 2))
  else formatStatus(status).forEach((line) => write(line))
  return status.running ? 0 : EXIT_NOT_RUNNING
}

export function formatStatus(status: PoolStatus): string[] {
  if (!status.running) {
    const lines = [`Status: not running (state directory ${status.stateDir})`]
    if (status.found) lines.push(`  ${status.found}`)
    if (status.leftovers.length)
      lines.push(
        `  ${status.leftovers.length} workers of a dead master are still running: ${status.leftovers.map((w) => `${w.pid} (${w.queues})`).join(', ')}`,
        '  rpd start stops them before it starts a new pool; rpd stop stops them now',
      )
    return lines
  }
  if (status.found) return [`Status: running, pid: ${status.pid}`, `  ${status.found}`]
  const head = `Status: ${status.state}${status.paused ? ' (paused)' : ''}, pid: ${status.pid}, uptime: ${formatUptime(status.uptimeSeconds ?? 0)}, generation: ${status.generation}`
  const lines = [head, 'Configuration:', ...formatFormationLines(status.formation), 'Process tree:']
  lines.push(...drawProcessTree(status.pid!, status.workers))
  for (const worker of status.workers.filter((w) => w.state === 'backoff')) {
    const next = worker.nextAttemptAt ? Math.max(0, Date.parse(worker.nextAttemptAt) - Date.now()) : 0
    const exit = worker.lastExit
    const why = exit ? (exit.signal ? `signal ${exit.signal}` : `status ${exit.code}`) : 'spawn failed'
    lines.push(
      `  ${worker.queues}: waiting to respawn in ${(next / 1000).toFixed(1)} s (last exit: ${why}, restarts ${worker.restarts})`,
    )
  }
  if (status.resque) lines.push(...formatResque(status))
  return lines
}

// Queue depths, what the built-in workers do, and Resque's processed / failed totals.
function formatResque(status: PoolStatus): string[] {
  const where = `${redactUrl(status.redisUrl ?? '')}, namespace ${status.namespace || DEFAULT_NAMESPACE}`
  const result = status.resque!
  if ('error' in result) return [`Resque: redis unreachable: ${result.error}`]
  const { queues, processed, failed } = result.stats
  const depths = Object.entries(queues).map(([name, depth]) => `${formatGroupKey(name)}: ${depth}`)
  // Built-in workers report their jobs; Ruby workers' titles say theirs.
  const reporting = status.workers.filter((w) => 'job' in w && w.state !== 'backoff')
  const busy = reporting.filter((w) => w.job).length
  const paused = reporting.filter((w) => w.paused).length
  return [
    `Resque (${where}):`,
    `  queues: ${depths.length ? depths.join(', ') : '(none)'}`,
    `  workers: ${busy} busy, ${reporting.length - busy} idle${paused ? `, ${paused} paused` : ''}`,
    `  processed: ${processed}, failed: ${failed}`,
  ]
}
