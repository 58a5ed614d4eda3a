import type { ApplyResult, EnqueueResult, SignalResult, StartedPool } from '../client/pool.js'
import { redactUrl } from '../resque/redis-url.js'
import { type Bounds, type Formation, formatFormation } from '../state/formation.js'

// How a worker ended, as a status or an error names it: the signal that killed it, or its exit status.
export function describeExit(exit: { code: number | null; signal: string | null } | null): string {
  if (exit?.signal) return `signal ${exit.signal.replace(/^SIG/, '')}`
  if (!exit || exit.code === null) return 'could not be spawned'
  return `status ${exit.code}`
}

export function describeFormation(formation: Formation, bounds: Bounds = {}): string {
  return formatFormation(formation, bounds) || '(no workers)'
}

// After `start`: the master's pid when not waiting, else a blank line and the status (given as its lines).
export function formatStarted(started: StartedPool, statusLines?: readonly string[]): string[] {
  return statusLines ? ['', ...statusLines] : [`started master ${started.pid}`]
}

export function formatScaled(result: ApplyResult): string[] {
  const formation = describeFormation(result.formation, result.bounds)
  const manual = result.manual.map(
    (group) =>
      `${group} is manual now, fixed at ${result.formation[group]} (rpd scale ${group}=MIN..MAX makes it automatic again)`,
  )
  if (result.outcome === 'unchanged') return [`no change: the formation is already ${formation}`]
  if (result.outcome === 'saved') return [...manual, `not running: saved ${formation} for the next rpd start`]
  const verb = result.outcome === 'applied' ? 'applied' : 'sent'
  return [...manual, `${verb} generation ${result.generation}: ${formation}`]
}

export function formatReloaded(result: ApplyResult): string[] {
  return [`reloaded generation ${result.generation}: ${describeFormation(result.formation, result.bounds)}`]
}

export function formatRestarted(result: ApplyResult): string[] {
  return [result.outcome === 'applied' ? 'restarted' : 'restart requested']
}

export function formatKilled(result: SignalResult): string[] {
  return [`sent ${result.signal.replace(/^SIG/, '')} to master ${result.pid}`]
}

export function formatPaused(result: SignalResult): string[] {
  return [`paused (sent USR2 through master ${result.pid}); rpd resume goes on`]
}

export function formatResumed(result: SignalResult): string[] {
  return [`resumed (sent CONT through master ${result.pid})`]
}

export function formatStopped(outcome: 'stopped' | 'not running'): string[] {
  return [outcome]
}

// `rpd config --path`: where each state file lives.
export function formatStatePaths(paths: {
  dir: string
  pool: string
  pid: string
  status: string
  log: string
}): string[] {
  return [
    `state directory: ${paths.dir}`,
    `pool.yml: ${paths.pool}`,
    `master.pid: ${paths.pid}`,
    `status.json: ${paths.status}`,
    `master.log: ${paths.log}`,
  ]
}

export function formatEnqueued(result: EnqueueResult, queue: string, className: string): string[] {
  const jobs = result.pushed === 1 ? `1 ${className} job` : `${result.pushed} ${className} jobs`
  return [
    `enqueued ${jobs} on ${queue} (${redactUrl(result.url)}, namespace ${result.namespace}); ${queue} now holds ${result.length}`,
  ]
}
