import type { Redis } from 'ioredis'
import { listProcesses, readCmdline } from '../proc/process-identity.js'
import { silentWorker } from './failure.js'
import type { ResqueKeys } from './keys.js'
import { WorkerRegistry, parseWorkingOn } from './registry.js'

// Resque prunes a worker whose last heartbeat is this far behind the Redis clock (5 heartbeat intervals).
export const PRUNE_AFTER_S = 300
export const PRUNE_LOCK_S = 60
// What Ruby Resque takes, in `ps` output, for a live worker process.
const LIVE_WORKER_TITLE = /resque:work|resque:\sStarting|resque-[0-9]/

export interface Pruner {
  id: string
  hostname: string
  // The worker's queue list as given (`*` stays `*`).
  queues: readonly string[]
}

// Pids of this host's processes whose title says they are Resque workers (Ruby's worker_pids, read from /proc).
function liveWorkerPids(): Set<string> {
  const pids = new Set<string>()
  for (const proc of listProcesses()) {
    if (proc.state === 'Z') continue
    const title = readCmdline(proc.pid)
    if (LIVE_WORKER_TITLE.test(title) && !title.includes('resque-web')) pids.add(String(proc.pid))
  }
  return pids
}

const sameQueues = (a: readonly string[], b: readonly string[]) =>
  new Set(a).size === new Set(b).size && a.every((queue) => b.includes(queue))

// Resque's prune_dead_workers, run once at startup: registrations whose heartbeat expired anywhere, and those of this
// host and queue list whose process is gone, are unregistered (their job in progress failed). Returns the pruned ids.
export async function pruneDeadWorkers(redis: Redis, keys: ResqueKeys, pruner: Pruner): Promise<string[]> {
  if ((await redis.set(keys.pruningLock, pruner.id, 'EX', PRUNE_LOCK_S, 'NX')) !== 'OK') return []
  const ids = (await redis.smembers(keys.workers)).filter((id) => id !== pruner.id)
  if (ids.length === 0) return []
  const heartbeats = await redis.hgetall(keys.heartbeats)
  const now = Number((await redis.time())[0])
  const live = liveWorkerPids()
  const pruned: string[] = []
  for (const id of ids) {
    const registry = new WorkerRegistry(redis, keys, id)
    const beat = heartbeats[id] ? Date.parse(heartbeats[id]) / 1000 : NaN
    if (now - beat > PRUNE_AFTER_S) {
      const working = parseWorkingOn(await redis.get(keys.worker(id)))
      const job = working && typeof working.payload === 'object' ? working.payload.class : undefined
      await registry.unregister(silentWorker(id, job))
      pruned.push(id)
      continue
    }
    const [host, pid, queues = ''] = id.split(':')
    // Another queue list may belong to another program (or language): Resque leaves those alone.
    if (!pruner.queues.includes('*') && !sameQueues(queues.split(','), pruner.queues)) continue
    if (host !== pruner.hostname || live.has(pid)) continue
    await registry.unregister()
    pruned.push(id)
  }
  return pruned
}
