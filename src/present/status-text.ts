import type { AutoscaleReport, FleetReport } from '../state/status-file.js'
import type { PoolStatus, ProcessNode, StatusJson } from '../client/pool-status.js'
import { DEFAULT_NAMESPACE } from '../resque/keys.js'
import { redactUrl } from '../resque/redis-url.js'
import type { Formation } from '../state/formation.js'
import type { WorkerStatus } from '../state/status-file.js'
import { describeExit } from './outcomes.js'

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
export function drawProcessTree(root: ProcessNode, workers: readonly WorkerStatus[]): string[] {
  const byPid = new Map(workers.map((worker) => [worker.pid, worker]))
  const label = (node: ProcessNode) => {
    const worker = byPid.get(node.pid)
    return `${node.pid} ${node.user} ${node.title}${worker ? `  ${workerNote(worker)}` : ''}`
  }
  const lines = [`-+= ${label(root)}`]
  const walk = (node: ProcessNode, prefix: string) => {
    node.children.forEach((kid, i) => {
      const last = i === node.children.length - 1
      lines.push(`${prefix}${last ? '\\' : '|'}-${kid.children.length ? '+' : '-'}- ${label(kid)}`)
      walk(kid, `${prefix}${last ? ' ' : '|'}  `)
    })
  }
  walk(root, ' ')
  return lines
}

// What `rpd status` prints; `now` places the respawn countdowns.
export function formatStatus(status: PoolStatus, now: number = Date.now()): string[] {
  return [...formatPoolState(status, now), ...formatStrays(status)]
}

function formatPoolState(status: PoolStatus, now: number): string[] {
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
  const lines = [
    head,
    ...(status.notResponding ? [`  ${status.notResponding}`] : []),
    'Configuration:',
    ...formatFormationLines(status.formation),
    'Process tree:',
  ]
  if (status.tree) lines.push(...drawProcessTree(status.tree, status.workers))
  for (const worker of status.workers.filter((w) => w.state === 'backoff')) {
    const next = worker.nextAttemptAt ? Math.max(0, Date.parse(worker.nextAttemptAt) - now) : 0
    const why = worker.problem
      ? `cannot start: ${worker.problem}; next attempt in ${(next / 1000).toFixed(1)} s`
      : `waiting to respawn in ${(next / 1000).toFixed(1)} s (last exit: ${describeExit(worker.lastExit)}, restarts ${worker.restarts})`
    lines.push(`  ${worker.queues}: ${why}`)
  }
  if (status.fleet) lines.push(formatFleetLine(status.fleet))
  if (status.autoscale) lines.push(...formatAutoscale(status.autoscale))
  if (status.resque) lines.push(...formatResque(status))
  return lines
}

// `rpd status --json`, a line at a time.
export function formatStatusJson(status: StatusJson): string[] {
  return JSON.stringify(status, null, 2).split('\n')
}

// Queue depths, what the built-in workers do, and Resque's processed / failed totals.
// Each automatic group: its count within its bounds, and the last decision with its reason.
export function formatAutoscale(autoscale: Record<string, AutoscaleReport>): string[] {
  const lines = ['Autoscale:']
  for (const [group, report] of Object.entries(autoscale)) {
    const dry = report.dryRun ? `, dry run: running ${report.running ?? report.desired}` : ''
    lines.push(
      `  ${formatGroupKey(group)}: ${report.desired} (${report.min}..${report.max}, target latency ${report.targetLatency} s${dry}): ${report.reason}`,
    )
  }
  return lines
}

function formatResque(status: PoolStatus): string[] {
  const where = `${redactUrl(status.redisUrl ?? '')}, namespace ${status.namespace || DEFAULT_NAMESPACE}`
  const result = status.resque!
  if ('error' in result) return [`Resque: redis unreachable: ${result.error}`]
  const { queues, processed, failed } = result.stats
  const depths = Object.entries(queues).map(([name, depth]) => `${formatGroupKey(name)}: ${depth}`)
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

// The pool's processes outside its workers, named so an operator can see what stop will end.
function formatStrays(status: PoolStatus): string[] {
  if (!status.strays?.length) return []
  const list = status.strays.map((p) => `${p.pid} (${p.command.slice(0, 60)})`).join(', ')
  return [
    `  ${status.strays.length} processes of this pool run outside its workers: ${list}`,
    '  rpd stop (and the next rpd start) ends them',
  ]
}

// One line for a fleet member: where it stands in the fleet; `rpd status --fleet` shows every member.
function formatFleetLine(fleet: FleetReport): string {
  const share = Object.entries(fleet.share)
    .map(([group, count]) => `${group}=${count}`)
    .join(' ')
  return `fleet ${fleet.name}: member ${fleet.hostId} (weight ${fleet.weight}) of ${fleet.members.length}, share ${share || '-'}, lease ${fleet.holder ?? 'free'}${fleet.reachable ? '' : '; Redis unreachable, keeping the workers'}`
}
