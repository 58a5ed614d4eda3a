import os from 'node:os'
import { DEFAULT_NAMESPACE, ResqueKeys, formatWorkerId } from './keys.js'
import { connectOnce } from './redis-client.js'
import { WorkerRegistry } from './registry.js'

export interface DeadWorker {
  redisUrl: string
  namespace?: string
  pid: number
  group: string
  hostname?: string
}

// What the master does when a built-in worker dies without unregistering (e.g. SIGKILL): what Resque's
// prune_dead_workers would do later, done at once. Returns a line for the log when there was something to clean.
export async function pruneDeadWorker(dead: DeadWorker): Promise<string | undefined> {
  const id = formatWorkerId(dead.hostname ?? os.hostname(), dead.pid, dead.group)
  const keys = new ResqueKeys(dead.namespace || DEFAULT_NAMESPACE)
  const redis = await connectOnce(dead.redisUrl)
  try {
    const registered = await redis.sismember(keys.workers, id)
    const working = await new WorkerRegistry(redis, keys, id).unregister()
    if (working) {
      const className = typeof working.payload === 'object' ? working.payload.class : 'No Name'
      return `removed dead worker ${id} from Redis; its job ${className} on ${working.queue} is recorded as failed`
    }
    return registered ? `removed dead worker ${id} from Redis` : undefined
  } finally {
    redis.disconnect()
  }
}
