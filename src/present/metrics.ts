// Prometheus text exposition (format 0.0.4) of one snapshot of the pool; pure, so `rpd metrics` and the
// master's /metrics endpoint print the same text.

export type ScaleDirection = 'up' | 'down'

// The reason codes a scale event is counted under; anything else becomes `other` so the label stays bounded.
export const SCALE_REASONS = [
  'latency',
  'depth',
  'idle',
  'guard',
  'schedule',
  'budget',
  'manual',
  'other',
] as const
export type ScaleReason = (typeof SCALE_REASONS)[number]

// Worker states always exported per group (at 0 when empty), so dashboards see stable series.
export const WORKER_STATES = ['starting', 'busy', 'idle', 'running', 'stopping', 'backoff'] as const

export interface GroupMetrics {
  name: string
  desired: number
  // Present for automatic (autoscaled) groups only.
  min?: number
  max?: number
  // busy: true working a job, false idle, null not known (workers that do not report).
  workers: { state: string; busy: boolean | null }[]
  restarts: number
}

export interface MetricsSnapshot {
  groups: GroupMetrics[]
  scaleEvents: { group: string; direction: ScaleDirection; reason: string; count: number }[]
  guardVetoes: { guard: string; count: number }[]
  // latencySeconds: age of the oldest waiting job, null when the queue is empty or it is not known.
  queues: { name: string; depth: number; latencySeconds: number | null }[]
  // Totals as Resque keeps them in Redis; absent when the pool has no Redis.
  resque?: { workers: number; working: number; processed: number; failed: number }
  // startedAt: ISO 8601 time, or milliseconds since the epoch.
  master: { pid: number; startedAt: string | number }
}

type Labels = Record<string, string>
type MetricType = 'gauge' | 'counter'

interface Family {
  name: string
  type: MetricType
  help: string
  samples: { labels: Labels; value: number }[]
}

export function renderMetrics(snapshot: MetricsSnapshot): string {
  const families = [
    ...collectRpdFamilies(snapshot),
    ...collectResqueFamilies(snapshot),
    collectProcess(snapshot),
  ]
  return families.map(formatFamily).join('')
}

// Maps free text or an unknown code to one of SCALE_REASONS.
export function classifyScaleReason(reason: string): ScaleReason {
  const code = reason.trim().toLowerCase()
  return (SCALE_REASONS as readonly string[]).includes(code) ? (code as ScaleReason) : 'other'
}

// A worker's state label: a running worker that reports is `busy` or `idle`; others keep their state.
export function classifyWorkerState(worker: { state: string; busy: boolean | null }): string {
  if (worker.state === 'running' && worker.busy !== null) return worker.busy ? 'busy' : 'idle'
  return worker.state
}

function collectRpdFamilies(snapshot: MetricsSnapshot): Family[] {
  const workers = family('rpd_workers', 'gauge', 'Worker processes by group and state.')
  const desired = family('rpd_desired_workers', 'gauge', 'Workers the pool is trying to run, by group.')
  const min = family('rpd_min_workers', 'gauge', 'Lower bound of an automatic group.')
  const max = family('rpd_max_workers', 'gauge', 'Upper bound of an automatic group.')
  const restarts = family('rpd_restarts_total', 'counter', 'Workers restarted after exiting, by group.')
  for (const group of snapshot.groups) {
    const counts = new Map<string, number>(WORKER_STATES.map((state) => [state, 0]))
    for (const worker of group.workers) {
      const state = classifyWorkerState(worker)
      counts.set(state, (counts.get(state) ?? 0) + 1)
    }
    for (const [state, count] of counts)
      workers.samples.push({ labels: { group: group.name, state }, value: count })
    desired.samples.push({ labels: { group: group.name }, value: group.desired })
    if (group.min !== undefined) min.samples.push({ labels: { group: group.name }, value: group.min })
    if (group.max !== undefined) max.samples.push({ labels: { group: group.name }, value: group.max })
    restarts.samples.push({ labels: { group: group.name }, value: group.restarts })
  }

  const scaleEvents = family(
    'rpd_scale_events_total',
    'counter',
    "Changes of a group's desired count, by direction and reason code.",
  )
  const events = new Map<string, { labels: Labels; value: number }>()
  for (const event of snapshot.scaleEvents) {
    const labels = {
      group: event.group,
      direction: event.direction,
      reason: classifyScaleReason(event.reason),
    }
    addTo(events, labels, event.count)
  }
  scaleEvents.samples.push(...events.values())

  const vetoes = family('rpd_guard_vetoes_total', 'counter', 'Scale-ups a guard refused, by guard.')
  const byGuard = new Map<string, { labels: Labels; value: number }>()
  for (const veto of snapshot.guardVetoes) addTo(byGuard, { guard: veto.guard }, veto.count)
  vetoes.samples.push(...byGuard.values())

  const latency = family('rpd_queue_latency_seconds', 'gauge', 'Age of the oldest job waiting in a queue.')
  for (const queue of snapshot.queues)
    if (queue.latencySeconds !== null)
      latency.samples.push({ labels: { queue: queue.name }, value: queue.latencySeconds })

  return [workers, desired, min, max, restarts, scaleEvents, vetoes, latency]
}

// The names Resque exporters already use, so their dashboards work against rpd unchanged.
function collectResqueFamilies(snapshot: MetricsSnapshot): Family[] {
  const inQueue = family('resque_jobs_in_queue', 'gauge', 'Jobs waiting in a Resque queue.')
  for (const queue of snapshot.queues)
    inQueue.samples.push({ labels: { queue: queue.name }, value: queue.depth })
  const resque = snapshot.resque
  if (!resque) return [inQueue]
  return [
    inQueue,
    single('resque_workers', 'gauge', 'Resque workers registered in Redis.', resque.workers),
    single('resque_working_workers', 'gauge', 'Resque workers working a job.', resque.working),
    single('resque_job_executions_total', 'counter', 'Jobs Resque has processed.', resque.processed),
    single('resque_failed_job_executions_total', 'counter', 'Jobs that failed.', resque.failed),
  ]
}

function collectProcess(snapshot: MetricsSnapshot): Family {
  const startedMs =
    typeof snapshot.master.startedAt === 'number'
      ? snapshot.master.startedAt
      : Date.parse(snapshot.master.startedAt)
  return single(
    'process_start_time_seconds',
    'gauge',
    'Start time of the rpd master since the epoch, in seconds.',
    startedMs / 1000,
  )
}

function family(name: string, type: MetricType, help: string): Family {
  return { name, type, help, samples: [] }
}

function single(name: string, type: MetricType, help: string, value: number): Family {
  return { name, type, help, samples: [{ labels: {}, value }] }
}

// Sums samples whose labels coincide (two free-text reasons may both become `other`).
function addTo(into: Map<string, { labels: Labels; value: number }>, labels: Labels, value: number): void {
  const key = JSON.stringify(labels)
  const existing = into.get(key)
  if (existing) existing.value += value
  else into.set(key, { labels, value })
}

function formatFamily(f: Family): string {
  let text = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`
  for (const sample of f.samples)
    text += `${f.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}\n`
  return text
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
  return pairs.length ? `{${pairs.join(',')}}` : ''
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}
