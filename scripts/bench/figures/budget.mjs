// A shared worker budget on a real pool: `rpd start quiet=0..4 peak=0..4 --max-total 4` with built-in workers and
// real Redis. A backlog in `quiet` makes it take the whole budget; once drained its 4 workers sit idle (inside
// its down window, so they would stay). Then `peak`'s queue bursts. Measured from the burst's enqueue: when
// `peak` first has 2 live workers (half of quiet's idle ones moved), and the most live workers of the pool at
// any 50 ms sample over the whole run, counted from /proc by the QUEUE each worker was started with.
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { childrenOf, readStat, waitFor } from '../lib/proc.mjs'
import { ROOT, Rpd, startRedis } from '../lib/tools.mjs'

const JOBS = path.join(ROOT, 'scripts/bench/fixtures/burst-jobs.mjs')
const BUDGET = 4
const SAMPLE_MS = 50
const QUIET_JOBS = 40
const PEAK_JOBS = 200

function queueOf(pid) {
  try {
    const entry = fs
      .readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .find((e) => e.startsWith('QUEUE='))
    return entry?.slice('QUEUE='.length)
  } catch {
    return undefined
  }
}

// Live workers of the master by group.
function liveByGroup(master) {
  const counts = {}
  for (const pid of childrenOf(master)) {
    if ((readStat(pid)?.state ?? 'Z') === 'Z') continue
    const queue = queueOf(pid)
    if (queue) counts[queue] = (counts[queue] ?? 0) + 1
  }
  return counts
}

const job = () => JSON.stringify({ class: 'Burst', args: [Date.now()] })

async function runOnce(ctx, url, redis, i) {
  await redis.flushall()
  const rpd = new Rpd(path.join(ctx.tmp, `budget-${i}`, 'state'))
  let most = 0
  let sampling = true
  let peakAt
  let movedAt
  try {
    await rpd.start(
      [`quiet=0..${BUDGET}`, `peak=0..${BUDGET}`, '--max-total', String(BUDGET)],
      ['--jobs', JOBS, '--redis', url],
    )
    const master = rpd.masterPid()
    const sampler = (async () => {
      while (sampling) {
        const counts = liveByGroup(master)
        most = Math.max(most, (counts.quiet ?? 0) + (counts.peak ?? 0))
        if (peakAt !== undefined && movedAt === undefined && (counts.peak ?? 0) >= BUDGET / 2)
          movedAt = performance.now()
        await sleep(SAMPLE_MS)
      }
    })()
    await redis.sadd('resque:queues', 'quiet', 'peak')
    await redis.rpush('resque:queue:quiet', ...Array.from({ length: QUIET_JOBS }, job))
    await waitFor(() => (liveByGroup(master).quiet ?? 0) === BUDGET || undefined, {
      what: 'quiet to take the whole budget',
      timeoutMs: 30_000,
    })
    await waitFor(async () => (Number(await redis.llen('resque:queue:quiet')) === 0 ? true : undefined), {
      what: 'quiet to drain',
      timeoutMs: 60_000,
    })
    // Its last jobs finish; its workers are idle and inside their down window.
    await sleep(1_000)
    const idleQuiet = liveByGroup(master).quiet ?? 0
    peakAt = performance.now()
    await redis.rpush('resque:queue:peak', ...Array.from({ length: PEAK_JOBS }, job))
    await waitFor(() => movedAt, { what: 'half of the budget to move to peak', timeoutMs: 60_000 })
    sampling = false
    await sampler
    await rpd.stop({ timeoutMs: 60_000 })
    const run = { idleQuiet, movedS: (movedAt - peakAt) / 1000, most }
    ctx.log(`budget run ${i + 1}/${ctx.runs}: ${run.movedS.toFixed(2)} s to move half, at most ${most} live`)
    return run
  } finally {
    sampling = false
    await rpd.dispose()
  }
}

export async function measureBudget(ctx) {
  const server = await startRedis(path.join(ctx.tmp, 'budget-redis'))
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 })
  redis.on('error', () => undefined)
  try {
    const runs = []
    for (let i = 0; i < ctx.runs; i++) runs.push(await runOnce(ctx, server.url, redis, i))
    return { budget: BUDGET, runs }
  } finally {
    redis.disconnect()
    await server.stop()
  }
}
