// Pickup latency on an idle pool at Resque's default INTERVAL (5 s): from just before a job is enqueued (by
// `rpd enqueue`'s library call, or by Ruby's Resque.enqueue) to the moment its perform begins, one job at a time.
// Also the Redis commands per second the idle pool sends (INFO commandstats), against Ruby's resque-pool polling
// at the same INTERVAL, which also gives the Ruby pickup latency for a few jobs.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import readline from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { launch } from '../lib/measure.mjs'
import { childrenOf } from '../lib/proc.mjs'
import { RUBY_DIR, checkRuby, startRubyPool, waitUntil } from '../lib/ruby.mjs'
import { ROOT, Rpd, startRedis } from '../lib/tools.mjs'

export const PICKUP_WORKERS = 4
export const PICKUP_INTERVAL_S = 5
const QUEUE = 'pickup'
const STAMP_JOBS = path.join(ROOT, 'scripts/bench/fixtures/stamp-jobs.mjs')

// Sum of calls over every command in INFO commandstats.
async function commandCalls(redis) {
  const info = await redis.info('commandstats')
  return [...info.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0)
}

// Commands per second sent by everyone but this client (its two INFO calls are taken out).
async function idleCommandRate(redis, seconds) {
  const before = await commandCalls(redis)
  const began = performance.now()
  await sleep(seconds * 1000)
  const after = await commandCalls(redis)
  return (after - before - 1) / ((performance.now() - began) / 1000)
}

// A Ruby process that enqueues a job per line it reads and answers with the time it took just before the call.
async function startRubyEnqueuer(url) {
  const child = spawn('ruby', [path.join(RUBY_DIR, 'enqueue.rb')], {
    env: { ...process.env, REDIS_URL: url, PICKUP_QUEUE: QUEUE },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = readline.createInterface({ input: child.stdout })
  const waiting = []
  lines.on('line', (line) => waiting.shift()?.(line))
  const next = () => new Promise((resolve) => waiting.push(resolve))
  if ((await next()) !== 'ready') throw new Error('the Ruby enqueuer did not start')
  return {
    async enqueue(tag) {
      const answer = next()
      child.stdin.write(`${tag}\n`)
      return Number((await answer).split(' ')[1])
    },
    stop: () => child.kill('SIGTERM'),
  }
}

// One job at a time: enqueue, wait for its stamp, then a short random pause so pushes meet idle workers.
async function measureLatencies(redis, count, enqueuers) {
  const latencies = { rpd: [], ruby: [] }
  for (let i = 0; i < count; i++) {
    const [by, enqueue] = enqueuers[i % enqueuers.length]
    const tag = `${by}-${i}`
    const sent = await enqueue(tag)
    const entry = await redis.blpop('resque:bench:started', 30)
    if (!entry) throw new Error(`job ${tag} did not start within 30 s`)
    const [gotTag, at] = entry[1].split(' ')
    if (gotTag !== tag) throw new Error(`expected job ${tag} to start, got ${gotTag}`)
    latencies[by].push(Number(at) - sent)
    await sleep(10 + Math.random() * 20)
  }
  return latencies
}

async function runRpd(ctx, redis, url, rubyMissing) {
  const { enqueueJobs } = await import(path.join(ROOT, 'dist/resque/enqueue.js'))
  await redis.flushall()
  // INTERVAL empty: the built-in worker's default, as Resque's.
  const rpd = new Rpd(path.join(ctx.tmp, 'pickup-rpd', 'state'), { env: { INTERVAL: '' } })
  const ruby = rubyMissing ? undefined : await startRubyEnqueuer(url)
  // One connection for all the enqueues, as Ruby's Resque.redis is: the latency is the pool's, not a connect's.
  const client = new Redis(url)
  client.on('error', () => undefined)
  try {
    await rpd.start([`${QUEUE}=${PICKUP_WORKERS}`], ['--jobs', STAMP_JOBS, '--redis', url], {
      timeoutMs: 60_000,
    })
    // Every worker past its first check and waiting.
    await sleep(1500)
    const idle = await idleCommandRate(redis, ctx.pickupIdleS)
    const enqueuers = [
      [
        'rpd',
        async (tag) => {
          const sent = performance.timeOrigin + performance.now()
          await enqueueJobs(
            { url, namespace: 'resque', queue: QUEUE, className: 'Stamp', args: [tag] },
            client,
          )
          return sent
        },
      ],
    ]
    if (ruby) enqueuers.push(['ruby', (tag) => ruby.enqueue(tag)])
    const latencies = await measureLatencies(redis, ctx.pickupJobs, enqueuers)
    await rpd.stop()
    return { idleCommandsPerSecond: idle, latencies }
  } finally {
    client.disconnect()
    ruby?.stop()
    await rpd.dispose()
  }
}

async function runRuby(ctx, redis, url) {
  await redis.flushall()
  const pool = await startRubyPool({
    dir: path.join(ctx.tmp, 'pickup-ruby'),
    redisUrl: url,
    queue: QUEUE,
    workers: PICKUP_WORKERS,
    interval: PICKUP_INTERVAL_S,
    launch,
    childrenOf,
  })
  const ruby = await startRubyEnqueuer(url)
  try {
    await waitUntil(
      async () => (await redis.scard('resque:workers')) === PICKUP_WORKERS,
      'resque-pool to register its workers',
      60_000,
    )
    await sleep(1500)
    const idle = await idleCommandRate(redis, ctx.pickupIdleS)
    const latencies = await measureLatencies(redis, ctx.pickupRubyJobs, [
      ['ruby', (tag) => ruby.enqueue(tag)],
    ])
    return { idleCommandsPerSecond: idle, latencies }
  } finally {
    ruby.stop()
    await pool.stop()
  }
}

export async function measurePickup(ctx) {
  ctx.pickupJobs ??= 200
  ctx.pickupRubyJobs ??= ctx.quick ? 4 : 10
  ctx.pickupIdleS ??= ctx.quick ? 10 : 30
  const server = await startRedis(path.join(ctx.tmp, 'pickup-redis'))
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 })
  redis.on('error', () => undefined)
  const rubyMissing = checkRuby()
  try {
    const rpd = await runRpd(ctx, redis, server.url, rubyMissing)
    ctx.log(
      `pickup: rpd done (${ctx.pickupJobs} jobs, idle ${rpd.idleCommandsPerSecond.toFixed(2)} commands/s)`,
    )
    const ruby = rubyMissing ? undefined : await runRuby(ctx, redis, server.url)
    return {
      rpd,
      ruby,
      rubyMissing,
      jobs: ctx.pickupJobs,
      rubyJobs: ctx.pickupRubyJobs,
      idleSeconds: ctx.pickupIdleS,
      workers: PICKUP_WORKERS,
      intervalS: PICKUP_INTERVAL_S,
    }
  } finally {
    redis.disconnect()
    await server.stop()
  }
}
