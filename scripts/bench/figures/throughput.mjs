// No-op job throughput against one private redis-server: rpd's built-in workers (4 processes under one master)
// against node-resque's MultiWorker with 4 task processors in one process and Ruby's resque-pool with 4 workers
// (no fork per job). All are up and waiting on an empty queue (INTERVAL 50 ms / node-resque's timeout) before
// N jobs are pushed at once; the rate is taken from LLEN between 90% and 10% of the jobs left, so start-up and the
// last stragglers do not count. The limit is one client running the script rpd runs per job, with nothing else.
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { launch } from '../lib/measure.mjs'
import { CLK_TCK, childrenOf, cpuTicks, waitFor } from '../lib/proc.mjs'
import { MULTI_WORKER, NOOP_JOBS, ROOT, Rpd, startRedis } from '../lib/tools.mjs'
import { checkRuby, startRubyPool, waitUntil } from '../lib/ruby.mjs'
import { performance } from 'node:perf_hooks'
import { clearTimeout, setTimeout } from 'node:timers'

export const WORKERS = 4
// Scripts the limit keeps on their way to Redis at once: enough that Redis, not the round trip, sets the rate.
export const LIMIT_IN_FLIGHT = 64
const QUEUE = 'bench'
const POLL_MS = 50
const PUSH_BATCH = 1_000
const SAMPLE_MS = 20
const JOB = JSON.stringify({ class: 'Noop', args: [] })

async function pushJobs(redis, count) {
  const pipeline = redis.pipeline().sadd('resque:queues', QUEUE)
  for (let left = count; left > 0; left -= PUSH_BATCH)
    pipeline.rpush(`resque:queue:${QUEUE}`, ...Array(Math.min(left, PUSH_BATCH)).fill(JOB))
  await pipeline.exec()
}

// Samples the queue length and the CPU ticks of the given processes until the queue is empty.
async function drain(redis, count, pids, writes = () => 0) {
  const samples = []
  const deadline = performance.now() + 180_000
  for (;;) {
    const len = await redis.llen(`resque:queue:${QUEUE}`)
    const ticks = pids().map((pid) => cpuTicks(pid) ?? 0)
    samples.push({ t: performance.now(), len, ticks, writes: writes() })
    if (len === 0) break
    if (performance.now() > deadline) throw new Error(`${len} of ${count} jobs still queued after 180 s`)
    await sleep(SAMPLE_MS)
  }
  const high = samples.find((s) => s.len <= 0.9 * count)
  const low = samples.find((s) => s.len <= 0.1 * count)
  const seconds = (low.t - high.t) / 1000
  const cpu = (i) => ((low.ticks[i] - high.ticks[i]) / CLK_TCK / seconds) * 100
  return {
    rate: (high.len - low.len) / seconds,
    seconds,
    cpuPcts: high.ticks.map((_, i) => cpu(i)),
    writesPerSecond: (low.writes - high.writes) / seconds,
  }
}

// Every job must have run and none failed, or the rate would count something other than no-op jobs.
async function checkProcessed(redis, count, who) {
  const deadline = performance.now() + 10_000
  for (;;) {
    const [processed, failed] = (await redis.mget('resque:stat:processed', 'resque:stat:failed')).map(Number)
    if (failed > 0) throw new Error(`${who}: ${failed} of the no-op jobs failed`)
    if (processed >= count) return processed
    if (performance.now() > deadline)
      throw new Error(`${who}: only ${processed} of ${count} jobs recorded as processed`)
    await sleep(50)
  }
}

// The same number of jobs again on the same workers, now warm (their code optimised by the first batch): context
// for the figure, which is measured on fresh workers as a pool just started, or scaled up for a burst, has them.
async function warmBatch(redis, count, who, pids) {
  await pushJobs(redis, count)
  const result = await drain(redis, count, pids)
  await checkProcessed(redis, 2 * count, who)
  return result
}

async function runRpd(ctx, redis, url, i) {
  const rpd = new Rpd(path.join(ctx.tmp, `jobs-rpd-${i}`, 'state'), {
    env: { INTERVAL: String(POLL_MS / 1000) },
  })
  try {
    await redis.flushall()
    await rpd.start([`${QUEUE}=${WORKERS}`], ['--jobs', NOOP_JOBS, '--redis', url], { timeoutMs: 60_000 })
    const master = rpd.masterPid()
    const workers = childrenOf(master)
    // Counts the master's rewrites of status.json (each one ends in a rename onto that name).
    let statusWrites = 0
    const watcher = fs.watch(rpd.dir, (event, name) => {
      if (event === 'rename' && name === 'status.json') statusWrites++
    })
    await sleep(200)
    await pushJobs(redis, ctx.jobs)
    const result = await drain(
      redis,
      ctx.jobs,
      () => [master, ...workers],
      () => statusWrites,
    )
    watcher.close()
    const processed = await checkProcessed(redis, ctx.jobs, 'rpd')
    const warm = await warmBatch(redis, ctx.jobs, 'rpd', () => [master, ...workers])
    await rpd.stop()
    return {
      rate: result.rate,
      warmRate: warm.rate,
      seconds: result.seconds,
      masterCpuPct: result.cpuPcts[0],
      workersCpuPct: result.cpuPcts.slice(1).reduce((a, b) => a + b, 0),
      statusWritesPerSecond: result.writesPerSecond,
      processed,
    }
  } finally {
    await rpd.dispose()
  }
}

async function runMultiWorker(ctx, redis, port) {
  await redis.flushall()
  const child = launch([
    process.execPath,
    MULTI_WORKER,
    String(port),
    QUEUE,
    String(WORKERS),
    String(POLL_MS),
  ])
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  try {
    await waitFor(() => output.includes('ready') || child.exitCode !== null, {
      what: 'MultiWorker to start its task processors',
      timeoutMs: 30_000,
    })
    if (!output.includes('ready')) throw new Error(`MultiWorker exited: ${output.trim()}`)
    await sleep(200)
    await pushJobs(redis, ctx.jobs)
    const result = await drain(redis, ctx.jobs, () => [child.pid])
    const processed = await checkProcessed(redis, ctx.jobs, 'MultiWorker')
    const warm = await warmBatch(redis, ctx.jobs, 'MultiWorker', () => [child.pid])
    return {
      rate: result.rate,
      warmRate: warm.rate,
      seconds: result.seconds,
      cpuPct: result.cpuPcts[0],
      processed,
    }
  } finally {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

async function runRuby(ctx, redis, url, i) {
  await redis.flushall()
  const pool = await startRubyPool({
    dir: path.join(ctx.tmp, `jobs-ruby-${i}`),
    redisUrl: url,
    queue: QUEUE,
    workers: WORKERS,
    interval: POLL_MS / 1000,
    launch,
    childrenOf,
  })
  try {
    await waitUntil(
      async () => (await redis.scard('resque:workers')) === WORKERS || pool.child.exitCode !== null,
      'resque-pool to register its workers',
      60_000,
    )
    if (pool.child.exitCode !== null) throw new Error(`resque-pool exited: ${pool.output().trim()}`)
    await sleep(200)
    await pushJobs(redis, ctx.jobs)
    const result = await drain(redis, ctx.jobs, () => [pool.child.pid, ...pool.pids()])
    const processed = await checkProcessed(redis, ctx.jobs, 'resque-pool')
    return {
      rate: result.rate,
      seconds: result.seconds,
      cpuPct: result.cpuPcts.reduce((a, b) => a + b, 0),
      processed,
    }
  } finally {
    await pool.stop()
  }
}

// The physical limit: one client, the queue full, running the very script a built-in worker sends per job
// (finish the last job, reserve the next), LIMIT_IN_FLIGHT at a time; and one at a time, a worker's own ceiling.
async function runLimit(ctx, redis, url, inFlight) {
  const { WorkerRegistry } = await import(path.join(ROOT, 'dist/resque/registry.js'))
  const { ResqueKeys } = await import(path.join(ROOT, 'dist/resque/keys.js'))
  const { fastTarget } = await import(path.join(ROOT, 'dist/resque/fast-script.js'))
  await redis.flushall()
  await pushJobs(redis, ctx.jobs)
  // On a connection of its own, as a worker sends it (the first send of each step, unchecked).
  const registry = new WorkerRegistry(
    redis,
    new ResqueKeys('resque'),
    `limit:${process.pid}:${QUEUE}`,
    fastTarget(url),
  )
  const working = { queue: QUEUE, run_at: '2026-01-01T00:00:00Z', payload: JSON.parse(JOB) }
  let taken = 0
  const began = performance.now()
  const chain = async () => {
    while (await registry.advance([QUEUE], new Date(), { working })) taken++
  }
  await Promise.all(Array.from({ length: inFlight }, chain))
  const seconds = (performance.now() - began) / 1000
  registry.close()
  if (taken !== ctx.jobs) throw new Error(`limit: took ${taken} of ${ctx.jobs} jobs`)
  return { rate: taken / seconds, seconds }
}

export async function measureThroughput(ctx) {
  const server = await startRedis(path.join(ctx.tmp, 'redis'))
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 })
  // A failed command rejects and fails the figure; the event would only repeat it on stderr.
  redis.on('error', () => undefined)
  const rubyMissing = checkRuby()
  const sample = {
    rpd: [],
    multiWorker: [],
    ruby: [],
    limit: [],
    limitOne: [],
    jobs: ctx.jobs,
    rubyMissing,
    limitInFlight: LIMIT_IN_FLIGHT,
  }
  try {
    for (let i = 0; i < ctx.runs; i++) {
      const steps = [
        async () => sample.rpd.push(await runRpd(ctx, redis, server.url, i)),
        async () => sample.multiWorker.push(await runMultiWorker(ctx, redis, server.port)),
        async () => sample.limit.push(await runLimit(ctx, redis, server.url, LIMIT_IN_FLIGHT)),
        async () => sample.limitOne.push(await runLimit(ctx, redis, server.url, 1)),
      ]
      if (!rubyMissing) steps.push(async () => sample.ruby.push(await runRuby(ctx, redis, server.url, i)))
      // Each run starts with another tool, so none always meets a machine just warmed (or loaded) by the last.
      for (let k = 0; k < i % steps.length; k++) steps.push(steps.shift())
      for (const step of steps) await step()
      const last = (list) => (list.length ? Math.round(list.at(-1).rate) : 'n/a')
      ctx.log(
        `throughput run ${i + 1}/${ctx.runs}: rpd ${last(sample.rpd)} jobs/s, MultiWorker ${last(sample.multiWorker)}, ` +
          `resque-pool ${rubyMissing ? 'skipped' : last(sample.ruby)}, limit ${last(sample.limit)} (one at a time ${last(sample.limitOne)})`,
      )
    }
  } finally {
    redis.disconnect()
    await server.stop()
  }
  return sample
}
