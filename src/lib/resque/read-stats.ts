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
