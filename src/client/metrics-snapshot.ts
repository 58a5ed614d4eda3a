import type { GroupMetrics, MetricsSnapshot } from '../present/metrics.js'
import { DEFAULT_NAMESPACE, ResqueKeys } from '../resque/keys.js'
import { attributeQueues } from '../resque/sample-queues.js'
import { connectOnce } from '../resque/redis-client.js'
import { EXIT_NOT_RUNNING, RpdError } from '../errors.js'
import { findMaster } from '../state/master-pid.js'
import { statePaths } from '../state/state-dir.js'
import { readStatusFile, type StatusFile } from '../state/status-file.js'

// A Redis that answers slower than this leaves the Resque families out of the scrape rather than stalling it.
export const METRICS_REDIS_TIMEOUT_MS = 1_500

// An autoscale decision as the master records it in status.json (absent for pools without automatic groups).
export interface AutoscaleEntry {
  min?: number
  max?: number
  desired?: number
  reason?: string
  at?: string
  inputs?: { depth?: number; busy?: number; rate?: number; jobSeconds?: number; latency?: number | null }
}

export interface ResqueReading {
  queues: Record<string, number>
  workers: number
  working: number
  processed: number
  failed: number
}

type StatusWithAutoscale = StatusFile & { autoscale?: Record<string, AutoscaleEntry> }

// The snapshot from what status.json says and (when read) Redis; pure.
export function composeMetricsSnapshot(status: StatusFile, resque?: ResqueReading): MetricsSnapshot {
  const autoscale = (status as StatusWithAutoscale).autoscale ?? {}
  const counters = status.counters
  const names = [...Object.keys(status.formation)]
  for (const worker of status.workers) if (!names.includes(worker.queues)) names.push(worker.queues)
  const groups: GroupMetrics[] = names.map((name) => {
    const decision = autoscale[name]
    const workers = status.workers.filter((worker) => worker.queues === name)
    return {
      name,
      desired: decision?.desired ?? status.formation[name] ?? 0,
      ...(decision?.min !== undefined ? { min: decision.min } : {}),
      ...(decision?.max !== undefined ? { max: decision.max } : {}),
      workers: workers.map((worker) => ({
        state: worker.state,
        busy: worker.job === undefined ? null : worker.job !== null,
      })),
      restarts: counters?.restarts[name] ?? workers.reduce((sum, worker) => sum + (worker.restarts ?? 0), 0),
    }
  })
  // A queue's latency is known where a group of its own reports it in its autoscale inputs.
  const owners = attributeQueues(Object.keys(status.formation), Object.keys(resque?.queues ?? {}))
  const latencyOf = (queue: string): number | null => {
    for (const [group, queues] of owners) {
      const latency = autoscale[group]?.inputs?.latency
      if (queues.length === 1 && queues[0] === queue && typeof latency === 'number') return latency
    }
    return null
  }
  return {
    groups,
    scaleEvents: counters?.scaleEvents ?? [],
    guardVetoes: counters?.guardVetoes ?? [],
    queues: Object.entries(resque?.queues ?? {}).map(([name, depth]) => ({
      name,
      depth,
      latencySeconds: latencyOf(name),
    })),
    ...(resque
      ? {
          resque: {
            workers: resque.workers,
            working: resque.working,
            processed: resque.processed,
            failed: resque.failed,
          },
        }
      : {}),
    master: { pid: status.pid, startedAt: status.startedAt },
  }
}

// Queue depths, registered and working workers, and the global counters, in two round trips.
export async function readResqueReading(
  url: string,
  namespace = DEFAULT_NAMESPACE,
  timeoutMs = METRICS_REDIS_TIMEOUT_MS,
): Promise<ResqueReading> {
  const keys = new ResqueKeys(namespace)
  const redis = await connectOnce(url, timeoutMs, '')
  try {
    const [names, workerIds] = await Promise.all([redis.smembers(keys.queues), redis.smembers(keys.workers)])
    names.sort()
    const pipeline = redis.pipeline()
    for (const name of names) pipeline.llen(keys.queue(name))
    for (const id of workerIds) pipeline.exists(keys.worker(id))
    pipeline.get(keys.stat('processed')).get(keys.stat('failed'))
    const replies = (await pipeline.exec()) ?? []
    const failedReply = replies.find(([error]) => error)
    if (failedReply) throw failedReply[0]
    const values = replies.map(([, value]) => Number(value ?? 0))
    const queues: Record<string, number> = {}
    names.forEach((name, i) => (queues[name] = values[i]))
    const working = values.slice(names.length, names.length + workerIds.length).filter(Boolean).length
    const tail = names.length + workerIds.length
    return { queues, workers: workerIds.length, working, processed: values[tail], failed: values[tail + 1] }
  } finally {
    redis.disconnect()
  }
}

// Redis's part of a scrape, or undefined when it cannot be read in time (the pool's own families still count).
export async function readResqueReadingSafely(
  url: string | undefined,
  namespace: string | undefined,
): Promise<ResqueReading | undefined> {
  if (!url) return undefined
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), METRICS_REDIS_TIMEOUT_MS)
  })
  try {
    return await Promise.race([readResqueReading(url, namespace).catch(() => undefined), deadline])
  } finally {
    clearTimeout(timer)
  }
}

// What `rpd metrics` prints: the snapshot of a running pool, from status.json and the pool's Redis.
export async function readMetricsSnapshot(dir: string): Promise<MetricsSnapshot> {
  const paths = statePaths(dir)
  const status = readStatusFile(paths)
  if (!status || status.state === 'stopped' || !findMaster(paths).running)
    throw new RpdError(
      `no pool is running in ${dir}: start one with rpd start`,
      EXIT_NOT_RUNNING,
      'NOT_RUNNING',
    )
  return composeMetricsSnapshot(status, await readResqueReadingSafely(status.redis, status.namespace))
}
