import type { Redis } from 'ioredis'
import { ResqueKeys } from './keys.js'
import { attributeQueues } from './sample-queues.js'

// One look at a group in Redis: its backlog, and each of its workers' completed-job counters.
export interface GroupCounters {
  // Jobs waiting in the queues attributed to the group.
  depth: number
  // resque:stat:processed:ID by worker id; absent when the key is (a worker that never finished a job, or left).
  processed: Map<string, number>
}

// Reads in one pipelined round trip. `groups` is the whole formation, so that a queue named by two groups
// counts for the one that owns it (as the autoscaler attributes it).
export async function readGroupCounters(
  redis: Redis,
  namespace: string,
  group: string,
  groups: readonly string[],
  workerIds: readonly string[],
): Promise<GroupCounters> {
  const keys = new ResqueKeys(namespace)
  const known = (await redis.smembers(keys.queues)).sort()
  const queues = attributeQueues(groups.includes(group) ? groups : [...groups, group], known).get(group) ?? []
  const pipeline = redis.pipeline()
  for (const queue of queues) pipeline.llen(keys.queue(queue))
  for (const id of workerIds) pipeline.get(keys.stat('processed', id))
  const replies = (await pipeline.exec()) ?? []
  const failed = replies.find(([error]) => error)
  if (failed) throw failed[0]
  const values = replies.map(([, value]) => value)
  const depth = values.slice(0, queues.length).reduce<number>((sum, value) => sum + Number(value ?? 0), 0)
  const processed = new Map<string, number>()
  workerIds.forEach((id, i) => {
    const value = values[queues.length + i]
    if (value !== null && value !== undefined) processed.set(id, Number(value))
  })
  return { depth, processed }
}
