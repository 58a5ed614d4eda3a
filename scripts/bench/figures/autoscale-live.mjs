// Autoscaling measured on a real pool, not simulated: a master with real Redis and built-in workers.
// 1. Idle cost: a pool of 20 automatic groups (1..4 each, one idle worker each) watched for the idle window;
//    the master's CPU is utime+stime from /proc/PID/stat, as in the idle figure.
// 2. A 10x step burst into one automatic group (0..8): a steady trickle first (so the group has measured its
//    service time, as a group in production has), then ten times the rate, then nothing. Every job records
//    when it was enqueued and when its perform began; the workers of the group are counted from /proc every
//    50 ms; the master's decisions are read from master.log with their times. Arrivals are Poisson, seeded.
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { CLK_TCK, childrenOf, cpuTicks, readStat, waitFor } from '../lib/proc.mjs'
import { NOOP_JOBS, ROOT, Rpd, startRedis } from '../lib/tools.mjs'
// The simulation's seeded generator (mulberry32): every run sees the same arrivals.
import { seededRandom as seeded } from '../../../dist/autoscale/simulate.js'

const BURST_JOBS = path.join(ROOT, 'scripts/bench/fixtures/burst-jobs.mjs')
const IDLE_GROUPS = 20
const SETTLE_MS = 3_000
const SAMPLE_MS = 50

// The burst: JOB_MS per job; BASE_RATE jobs/s before and BURST_RATE (10x) during; needed capacity is
// BURST_RATE x JOB_MS / 1000 workers.
export const BURST = {
  group: 'burst',
  min: 0,
  max: 8,
  jobMs: 250,
  baseRate: 2,
  burstRate: 20,
  targetLatencyS: 5,
  downAfterS: 10,
}

const now = () => performance.timeOrigin + performance.now()

// The master's live children: its workers (a built-in worker's title replaces its command line, so they are
// counted as processes, not by name).
const workersOf = (pid) => childrenOf(pid).filter((child) => (readStat(child)?.state ?? 'Z') !== 'Z').length

async function measureIdleGroups(ctx, url) {
  const specs = Array.from({ length: IDLE_GROUPS }, (_, i) => `q${String(i + 1).padStart(2, '0')}=1..4`)
  const rpd = new Rpd(path.join(ctx.tmp, 'autoscale-idle', 'state'))
  try {
    await rpd.start(specs, ['--jobs', NOOP_JOBS, '--redis', url], { timeoutMs: 60_000 })
    const pid = rpd.masterPid()
    await sleep(SETTLE_MS)
    const before = cpuTicks(pid)
    const opened = performance.now()
    ctx.log(`autoscaleLive: watching ${IDLE_GROUPS} idle automatic groups for ${ctx.idleSeconds} s`)
    await sleep(ctx.idleSeconds * 1000)
    const seconds = (performance.now() - opened) / 1000
    const ticks = cpuTicks(pid) - before
    const workers = workersOf(pid)
    await rpd.stop()
    return { groups: IDLE_GROUPS, workers, seconds, ticks, cpuPct: (ticks / CLK_TCK / seconds) * 100 }
  } finally {
    await rpd.dispose()
  }
}

// A Poisson count with mean `mean` (Knuth's method; the means here are around 1).
function poisson(mean, random) {
  const limit = Math.exp(-mean)
  let k = 0
  for (let p = random(); p > limit; p *= random()) k++
  return k
}

// Poisson arrivals at `rate` jobs/s from now until `until`, pushed in a tick every 50 ms.
async function enqueueAt(redis, until, rate, random) {
  let sent = 0
  let last = now()
  while (now() < until) {
    await sleep(SAMPLE_MS)
    const t = now()
    const due = poisson(((t - last) / 1000) * rate, random)
    last = t
    if (due > 0) {
      const jobs = Array.from({ length: due }, () => JSON.stringify({ class: 'Burst', args: [t] }))
      await redis
        .pipeline()
        .sadd('resque:queues', BURST.group)
        .rpush(`resque:queue:${BURST.group}`, ...jobs)
        .exec()
      sent += due
    }
  }
  return sent
}

function decisionsOf(rpd) {
  const out = []
  for (const line of rpd.logLines()) {
    const m = line.match(/^(\S+) .*autoscale: burst (\d+) -> (\d+) \((.*)\)$/)
    if (m) out.push({ at: Date.parse(m[1]), from: Number(m[2]), to: Number(m[3]), reason: m[4] })
  }
  return out
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

async function runBurst(ctx, url, redis, burstSeconds, seed) {
  const random = seeded(seed)
  const b = BURST
  await redis.flushall()
  const rpd = new Rpd(path.join(ctx.tmp, 'autoscale-burst', 'state'), {
    env: { BURST_JOB_MS: String(b.jobMs) },
  })
  const timeline = []
  let sampling = true
  try {
    await rpd.start([`${b.group}=${b.min}..${b.max}`], ['--jobs', BURST_JOBS, '--redis', url], {
      timeoutMs: 60_000,
    })
    await rpd.cli([
      'autoscale',
      b.group,
      '--target-latency',
      `${b.targetLatencyS}s`,
      '--down-after',
      `${b.downAfterS}s`,
    ])
    const pid = rpd.masterPid()
    const sampler = (async () => {
      while (sampling) {
        timeline.push({ at: now(), workers: workersOf(pid) })
        await sleep(SAMPLE_MS)
      }
    })()
    const warmS = ctx.quick ? 15 : 30
    const t0 = now()
    const warmSent = await enqueueAt(redis, t0 + warmS * 1000, b.baseRate, random)
    const burstFrom = now()
    const burstTo = burstFrom + burstSeconds * 1000
    const burstSent = await enqueueAt(redis, burstTo, b.burstRate, random)
    const total = warmSent + burstSent
    // Drained: every job performed.
    await waitFor(async () => Number(await redis.llen('resque:bench:latency')) >= total, {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: `all ${total} burst jobs to run`,
    })
    const drainedAt = now()
    // Back to the minimum after the down window.
    await waitFor(() => (timeline.at(-1)?.workers === b.min ? true : undefined), {
      timeoutMs: (b.downAfterS + 60) * 1000,
      intervalMs: 100,
      what: `the group to return to ${b.min} workers`,
    })
    const minAt = now()
    sampling = false
    await sampler
    const stats = await redis.mget('resque:stat:processed', 'resque:stat:failed')
    const stamps = (await redis.lrange('resque:bench:latency', 0, -1)).map((s) => s.split(' ').map(Number))
    const decisions = decisionsOf(rpd)
    await rpd.stop()

    const before = timeline.filter((s) => s.at <= burstFrom).at(-1)?.workers ?? 0
    const firstExtra = timeline.find((s) => s.at > burstFrom && s.workers > before)
    const firstUp = decisions.find((d) => d.at >= burstFrom - 1000 && d.to > d.from && d.to > before)
    const needed = Math.ceil((b.burstRate * b.jobMs) / 1000)
    const inBurst = stamps
      .filter(([enq]) => enq >= burstFrom && enq < burstTo)
      .map(([enq, go]) => (go - enq) / 1000)
    const steady = stamps.filter(([enq]) => enq < burstFrom).map(([enq, go]) => (go - enq) / 1000)
    let workerSeconds = 0
    for (let i = 1; i < timeline.length; i++)
      workerSeconds += (timeline[i - 1].workers * (timeline[i].at - timeline[i - 1].at)) / 1000
    const scaleEventsWarm = decisions.filter((d) => d.at > t0 + 5000 && d.at < burstFrom).length
    return {
      warmSeconds: warmS,
      burstSeconds,
      jobs: total,
      processed: Number(stats[0] ?? 0),
      failed: Number(stats[1] ?? 0),
      workersBefore: before,
      needed,
      firstExtraWorkerS: firstExtra ? (firstExtra.at - burstFrom) / 1000 : NaN,
      firstDecision: firstUp
        ? {
            from: firstUp.from,
            to: firstUp.to,
            afterS: (firstUp.at - burstFrom) / 1000,
            reason: firstUp.reason,
          }
        : undefined,
      firstDecisionFraction: firstUp ? firstUp.to / needed : NaN,
      peakWorkers: Math.max(...timeline.map((s) => s.workers)),
      p95BurstLatencyS: percentile(inBurst, 95),
      p50BurstLatencyS: percentile(inBurst, 50),
      p95SteadyLatencyS: percentile(steady, 95),
      scaleEventsWarm,
      decisions: decisions.length,
      workerSeconds,
      backToMinS: (minAt - drainedAt) / 1000,
    }
  } finally {
    sampling = false
    await rpd.dispose()
  }
}

export async function measureAutoscaleLive(ctx) {
  const server = await startRedis(path.join(ctx.tmp, 'autoscale-live-redis'))
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 })
  redis.on('error', () => undefined)
  try {
    const idle = await measureIdleGroups(ctx, server.url)
    ctx.log(`autoscaleLive: ${IDLE_GROUPS} idle groups, master ${idle.cpuPct.toFixed(2)} % CPU`)
    const burstSeconds = ctx.quick ? 30 : 60
    const runs = []
    for (let i = 0; i < (ctx.quick ? 1 : 2); i++) {
      const run = await runBurst(ctx, server.url, redis, burstSeconds, i + 1)
      ctx.log(
        `autoscaleLive: burst run ${i + 1}: first extra worker ${run.firstExtraWorkerS.toFixed(2)} s, ` +
          `first decision ${run.firstDecision?.to ?? '?'} of ${run.needed} needed, p95 ${run.p95BurstLatencyS.toFixed(2)} s`,
      )
      runs.push(run)
    }
    return { idle, burst: BURST, runs }
  } finally {
    redis.disconnect()
    await server.stop()
  }
}
