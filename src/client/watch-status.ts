import fs from 'node:fs'
import { type StatusJson, readFullStatus, statusJson } from './pool-status.js'
import { statePaths } from '../state/state-dir.js'

// A look now and then even without file events (a master killed with SIGKILL writes nothing).
const WATCH_TICK_MS = 1_000

// Yields the status now, then each time it differs, woken by changes in the state directory.
export async function* watchStatus(dir: string, signal?: AbortSignal): AsyncGenerator<StatusJson> {
  let wake: (() => void) | undefined
  const poke = () => wake?.()
  let watcher: fs.FSWatcher | undefined
  try {
    watcher = fs.watch(statePaths(dir).dir, poke)
    watcher.on('error', () => undefined)
  } catch {
    watcher = undefined
  }
  const tick = setInterval(poke, WATCH_TICK_MS)
  signal?.addEventListener('abort', poke)
  let last = ''
  try {
    while (!signal?.aborted) {
      const status = statusJson(await readFullStatus(dir))
      const text = JSON.stringify({ ...status, uptimeSeconds: undefined })
      if (text !== last) {
        last = text
        yield status
      }
      if (signal?.aborted) break
      await new Promise<void>((resolve) => (wake = resolve))
      wake = undefined
    }
  } finally {
    watcher?.close()
    clearInterval(tick)
    signal?.removeEventListener('abort', poke)
  }
}
