import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads'
import type { ResqueStats } from './read-stats.js'

const STATS_THREAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stats-thread.js')
// `status` waits at most this long for Redis, then shows it as unreachable.
export const STATS_TIMEOUT_MS = 1_500
// On top of the Redis timeout: starting the thread and loading ioredis in it.
const THREAD_START_MS = 2_000

export type ResqueStatsResult = { stats: ResqueStats } | { error: string }

// `status` is synchronous, so the Redis reads run in a worker thread while this thread waits for its answer.
// Only pools with a Redis URL get here, so plain `status` never loads ioredis.
export function readResqueStatsSync(
  url: string,
  namespace: string,
  timeoutMs = STATS_TIMEOUT_MS,
): ResqueStatsResult {
  const done = new Int32Array(new SharedArrayBuffer(4))
  const { port1, port2 } = new MessageChannel()
  const worker = new Worker(STATS_THREAD, {
    workerData: { url, namespace, timeoutMs, done, port: port2 },
    transferList: [port2],
  })
  worker.unref()
  // A thread that cannot start shows as the timeout below, not as a crash after the status is printed.
  worker.on('error', () => undefined)
  try {
    Atomics.wait(done, 0, 0, timeoutMs + THREAD_START_MS)
    const reply = receiveMessageOnPort(port1)?.message as ResqueStatsResult | undefined
    return reply ?? { error: `no answer from Redis in ${(timeoutMs + THREAD_START_MS) / 1000} s` }
  } finally {
    port1.close()
    void worker.terminate()
  }
}
