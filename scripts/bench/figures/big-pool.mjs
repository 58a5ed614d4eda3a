// One master supervising 200 workers of the idle script: `rpd start foo=200` until it has returned and all 200
// children run the script; then `rpd stop` until every process of the pool is gone (shown, no target).
import path from 'node:path'
import { descendants, identityOf, runningWorkers, waitFor } from '../lib/proc.mjs'
import { IDLE_WORKER, Rpd, waitGone } from '../lib/tools.mjs'
import { watchFirst } from '../lib/watch.mjs'
import { performance } from 'node:perf_hooks'

export const BIG_POOL = 200

export async function measureBigPool(ctx) {
  const runs = []
  for (let i = 0; i < ctx.runs; i++) {
    const rpd = new Rpd(path.join(ctx.tmp, `big-${i}`, 'state'))
    try {
      const allRunning = () => {
        const pid = rpd.masterPid()
        return pid !== undefined && runningWorkers(pid, IDLE_WORKER).length >= BIG_POOL
      }
      const visible = watchFirst(allRunning, 20)
      const started = performance.now()
      await rpd.start([`foo=${BIG_POOL}`], undefined, { timeoutMs: 120_000 })
      await waitFor(allRunning, { what: `${BIG_POOL} workers`, timeoutMs: 60_000 })
      const startMs = performance.now() - started
      const visibleMs = visible.stop()
      const master = rpd.masterPid()
      const left = [identityOf(master), ...descendants(master)].filter(Boolean)
      const stopStarted = performance.now()
      await rpd.stop({ timeoutMs: 120_000 })
      await waitGone(left, `the ${BIG_POOL}-worker pool to exit`, 60_000)
      runs.push({ startMs, visibleMs, stopMs: performance.now() - stopStarted })
      ctx.log(`200 workers run ${i + 1}/${ctx.runs}: started in ${Math.round(startMs)} ms`)
    } finally {
      await rpd.dispose()
    }
  }
  return runs
}
