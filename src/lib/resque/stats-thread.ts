// Worker-thread entry for readResqueStatsSync: reads the stats, posts them, wakes the waiting main thread.
import { type MessagePort, workerData } from 'node:worker_threads'
import { errorMessage } from '../errors.js'
import { readResqueStats } from './read-stats.js'

const { url, namespace, timeoutMs, done, port } = workerData as {
  url: string
  namespace: string
  timeoutMs: number
  done: Int32Array
  port: MessagePort
}

try {
  port.postMessage({ stats: await readResqueStats(url, namespace, timeoutMs) })
} catch (error) {
  port.postMessage({ error: errorMessage(error) })
}
Atomics.store(done, 0, 1)
Atomics.notify(done, 0)
