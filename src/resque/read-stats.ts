import { errorMessage } from '../errors.js'
import { ResqueKeys } from './keys.js'
import { connectOnce } from './redis-client.js'

// What `status` shows of Resque: each queue's depth and the global processed / failed counters.
export interface ResqueStats {
  queues: Record<string, number>
  processed: number
  failed: number
}

export async function readResqueStats(
  url: string,
  namespace: string,
  timeoutMs?: number,
): Promise<ResqueStats> {
  const keys = new ResqueKeys(namespace)
  const redis = await connectOnce(url, timeoutMs, '')
  try {
    const names = (await redis.smembers(keys.queues)).sort()
    const pipeline = redis.pipeline()
    for (const name of names) pipeline.llen(keys.queue(name))
    pipeline.get(keys.stat('processed')).get(keys.stat('failed'))
    const replies = (await pipeline.exec()) ?? []
    const failedReply = replies.find(([error]) => error)
    if (failedReply) throw failedReply[0]
    const values = replies.map(([, value]) => Number(value ?? 0))
    const queues: Record<string, number> = {}
    names.forEach((name, i) => (queues[name] = values[i]))
    return { queues, processed: values[names.length], failed: values[names.length + 1] }
  } finally {
    redis.disconnect()
  }
}

export type ResqueStatsResult = { stats: ResqueStats } | { error: string }

// `status` waits at most this long for Redis, then shows it as unreachable.
export const STATS_TIMEOUT_MS = 1_500

// The stats, or the reason they could not be read; never hangs longer than the timeout.
export async function readResqueStatsSafely(
  url: string,
  namespace: string,
  timeoutMs = STATS_TIMEOUT_MS,
): Promise<ResqueStatsResult> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs)
  })
  try {
    return { stats: await Promise.race([readResqueStats(url, namespace, timeoutMs), deadline]) }
  } catch (error) {
    return { error: errorMessage(error) }
  } finally {
    clearTimeout(timer)
  }
}
