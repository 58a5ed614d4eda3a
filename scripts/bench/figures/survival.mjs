// Workers of one group surviving changes to another: start foo=5 bar=5, scale bar up, then down, and count the
// foo workers that are still the same processes (pid and start time). resque-pool restarts all of them on HUP.
import path from 'node:path'
import { isAlive } from '../lib/proc.mjs'
import { Rpd } from '../lib/tools.mjs'

export const GROUP_SIZE = 5

export async function measureSurvival(ctx) {
  const runs = []
  for (let i = 0; i < ctx.runs; i++) {
    const rpd = new Rpd(path.join(ctx.tmp, `survive-${i}`, 'state'))
    try {
      await rpd.start([`foo=${GROUP_SIZE}`, `bar=${GROUP_SIZE}`])
      const foo = rpd
        .status()
        .workers.filter((w) => w.queues === 'foo' && w.state === 'running')
        .map((w) => ({ pid: w.pid, startTime: w.startTime }))
      if (foo.length !== GROUP_SIZE)
        throw new Error(`expected ${GROUP_SIZE} foo workers, status.json has ${foo.length}`)
      await rpd.scale(['bar=+3'])
      await rpd.scale(['bar=-4'])
      const kept = foo.filter(isAlive).length
      const fooNow = rpd.status().workers.filter((w) => w.queues === 'foo' && w.state === 'running').length
      runs.push({ kept, of: GROUP_SIZE, fooRunning: fooNow })
      await rpd.stop()
    } finally {
      await rpd.dispose()
    }
  }
  ctx.log(`survival: kept ${runs.map((r) => r.kept).join(', ')} of ${GROUP_SIZE}`)
  return runs
}
