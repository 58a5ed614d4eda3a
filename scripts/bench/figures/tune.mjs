// rpd tune against a brute-force sweep, on three workloads made for it: CPU-bound jobs (a fixed busy loop: the
// best count is near the number of cores), sleep-bound jobs (throughput grows up to --max) and jobs contending
// for a Redis semaphore with 3 permits (the peak is at 3). Each workload runs in its own pool of built-in
// workers; rpd tune runs first, then the sweep measures every count from --min to --max with the same window
// rule (one `rpd tune --min N --max N` per count). Times are the tune's own (from its first change of count to
// its last), so that the sweep pays no CLI start-up per count.
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { Rpd, ROOT, startRedis } from '../lib/tools.mjs'

const TUNE_JOBS = path.join(ROOT, 'scripts/bench/fixtures/tune-jobs.mjs')
const PERMITS_KEY = 'bench:permits'
const PERMITS = 3
const BACKLOG = 20_000

export const TUNE_WORKLOADS = [
  {
    name: 'cpu',
    label: 'CPU-bound (busy loop, 1e6 iterations)',
    job: { class: 'Busy', args: [1_000_000] },
    max: 12,
    expected: () => `near ${os.availableParallelism()} (cores)`,
  },
  {
    name: 'sleep',
    label: 'sleep-bound (100 ms sleep)',
    job: { class: 'Nap', args: [100] },
    max: 20,
    expected: (w) => `${w.max} (--max)`,
  },
  {
    name: 'permit',
    label: `shared resource (Redis semaphore, ${PERMITS} permits, held 50 ms)`,
    job: { class: 'Permit', args: [PERMITS_KEY, 50] },
    max: 12,
    expected: () => String(PERMITS),
  },
]

// The verdicts of one workload: rpd's choice against the sweep's best, its probes, its time.
export function judgeTune(run) {
  const best = run.sweep.reduce((a, b) => (b.jobsPerSecond > a.jobsPerSecond ? b : a))
  const chosen = run.sweep.find((p) => p.workers === run.tune.best)
  const closeCount = Math.abs(run.tune.best - best.workers) <= 1
  const closeRate = chosen !== undefined && chosen.jobsPerSecond >= 0.95 * best.jobsPerSecond
  return {
    sweepBest: best.workers,
    sweepBestRate: best.jobsPerSecond,
    chosenRate: chosen?.jobsPerSecond,
    within: closeCount || closeRate,
    fewProbes: run.tune.probes.length <= 10,
    fast: run.tuneSeconds < 0.5 * run.sweepSeconds,
  }
}

async function topUp(redis, queue, job) {
  const length = await redis.llen(`resque:queue:${queue}`)
  if (length >= BACKLOG / 2) return
  const text = JSON.stringify(job)
  const pipeline = redis.pipeline().sadd('resque:queues', queue)
  for (let left = BACKLOG - length; left > 0; left -= 1000)
    pipeline.rpush(`resque:queue:${queue}`, ...Array(Math.min(left, 1000)).fill(text))
  await pipeline.exec()
}

async function tuneOnce(rpd, redis, workload, min, max, window) {
  await topUp(redis, workload.name, workload.job)
  const { stdout } = await rpd.cli(
    ['tune', workload.name, '--min', String(min), '--max', String(max), '--window', window, '--json'],
    {
      timeoutMs: 600_000,
    },
  )
  const report = JSON.parse(stdout)
  if (report.stoppedBy === 'drained') throw new Error(`${workload.name}: the queue ran dry during the tune`)
  return report
}

export async function measureTune(ctx) {
  const redisServer = await startRedis(path.join(ctx.tmp, 'tune-redis'))
  const redis = new Redis(redisServer.url)
  const window = ctx.quick ? '3s' : '4s'
  const runs = []
  try {
    for (const workload of TUNE_WORKLOADS) {
      await redis.flushall()
      await redis.rpush(PERMITS_KEY, ...Array.from({ length: PERMITS }, (_, i) => `permit-${i}`))
      const rpd = new Rpd(path.join(ctx.tmp, `tune-${workload.name}`, 'state'), { env: { INTERVAL: '0.1' } })
      try {
        await rpd.start([`${workload.name}=1`], ['--jobs', TUNE_JOBS, '--redis', redisServer.url], {
          timeoutMs: 60_000,
        })
        ctx.log(`tune: ${workload.name}: rpd tune --min 1 --max ${workload.max}`)
        const tune = await tuneOnce(rpd, redis, workload, 1, workload.max, window)
        ctx.log(
          `tune: ${workload.name}: best ${tune.best} in ${tune.probes.length} probes, ${Math.round(tune.seconds)} s`,
        )
        const sweep = []
        let sweepSeconds = 0
        for (let n = 1; n <= workload.max; n++) {
          const point = await tuneOnce(rpd, redis, workload, n, n, window)
          sweep.push({
            workers: n,
            jobsPerSecond: point.probes[0].jobsPerSecond,
            spread: point.probes[0].spread,
          })
          sweepSeconds += point.seconds
        }
        const run = {
          workload: workload.name,
          label: workload.label,
          max: workload.max,
          expected: workload.expected(workload),
          window,
          tune,
          tuneSeconds: tune.seconds,
          sweep,
          sweepSeconds,
        }
        run.verdict = judgeTune(run)
        ctx.log(`tune: ${workload.name}: sweep best ${run.verdict.sweepBest} (${Math.round(sweepSeconds)} s)`)
        runs.push(run)
      } finally {
        await rpd.dispose()
      }
    }
  } finally {
    redis.disconnect()
    await redisServer.stop()
  }
  return { cores: os.availableParallelism(), runs }
}
