import fs from 'node:fs'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import {
  alive,
  cleanupStates,
  fixture,
  newStateDir,
  rpd,
  status,
  waitFor,
  type StatusJson,
} from './helpers/cli.js'
import { type RedisServer, usePrivateRedis } from './helpers/redis.js'
import { RAKEFILE, describeRuby } from './helpers/ruby.js'

const JOBS = fixture('jobs-sleep.mjs')
let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

const logOf = (dir: string) => fs.readFileSync(path.join(dir, 'master.log'), 'utf8')
const live = (s: StatusJson, group?: string) =>
  s.workers.filter((w) => (group === undefined || w.queues === group) && w.state !== 'backoff').length

async function start(dir: string, args: string[]) {
  const result = await rpd(['start', ...args, '--jobs', JOBS, '--redis', server.url, '--state-dir', dir])
  expect(result.exitCode, result.stderr).toBe(0)
}

async function enqueue(queue: string, jobs: unknown[][]) {
  const pipeline = redis.pipeline().sadd('resque:queues', queue)
  for (const args of jobs)
    pipeline.rpush(`resque:queue:${queue}`, JSON.stringify({ class: args[0], args: args.slice(1) }))
  await pipeline.exec()
}

describe('guards and the worker budget, for real', () => {
  it('a memory floor above MemAvailable vetoes a scale-up and says why', async () => {
    const dir = newStateDir()
    await start(dir, ['images=1..4', '--min-free-mem', '100%', '--guard-after', '1h'])
    await enqueue(
      'images',
      Array.from({ length: 100 }, (_, i) => ['Nap', 100, `n${i}`]),
    )
    await waitFor(() => /guard: min-free-mem vetoes images 1 -> 4; held at 1/.test(logOf(dir)), 'the veto')
    // status.json catches up within a pass or two of the log.
    const s = await waitFor(async () => {
      const now = await status(dir)
      const guards = now.guards as { vetoing?: string; capped?: Record<string, unknown> } | undefined
      return guards?.vetoing && guards.capped?.images ? now : undefined
    }, 'status to show the veto')
    expect(live(s, 'images')).toBe(1)
    expect(s.guards).toMatchObject({ vetoing: 'min-free-mem', capped: { images: { count: 1 } } })
    expect((s.autoscale as Record<string, { desired: number }>).images.desired).toBe(4)
  })

  it('a budget of 4 shared by two bursting groups never exceeds 4 and moves idle workers to the burst', async () => {
    const dir = newStateDir()
    await start(dir, ['a=0..4', 'b=0..4', '--max-total', '4'])
    let most = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, live(await status(dir)))
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    try {
      await enqueue(
        'a',
        Array.from({ length: 120 }, (_, i) => ['Nap', 30, `a${i}`]),
      )
      await waitFor(async () => live(await status(dir), 'a') === 4, 'a to take the whole budget')
      await waitFor(async () => (await redis.llen('resque:queue:a')) === 0, 'a to drain', 30_000)
      await enqueue(
        'b',
        Array.from({ length: 200 }, (_, i) => ['Nap', 200, `b${i}`]),
      )
      const burstAt = Date.now()
      await waitFor(
        async () => live(await status(dir), 'b') >= 2,
        'half of a’s idle workers to move to b',
        15_000,
      )
      const moved = Date.now() - burstAt
      expect(moved).toBeLessThan(15_000)
      expect(logOf(dir)).toMatch(/stopping worker\[\d+\] queues: a/)
    } finally {
      sampling = false
      await sampler
    }
    expect(most).toBeLessThanOrEqual(4)
  })

  it('--max-rss stops a worker that grows after its job, and replaces it', async () => {
    const dir = newStateDir()
    await start(dir, ['mem=1', '--max-rss', '150M'])
    const before = (await status(dir)).workers[0].pid
    await enqueue('mem', [['Grow', 300, 4500, 'big']])
    await waitFor(
      () => new RegExp(`guard: max-rss: worker ${before} at .*QUIT.*\\(queues: mem\\)`).test(logOf(dir)),
      'the QUIT',
      20_000,
    )
    await waitFor(
      async () => (await redis.lrange('test:done', 0, -1)).some((l) => l.includes('"big"')),
      'the job to finish',
      20_000,
    )
    const after = await waitFor(
      async () => {
        const s = await status(dir)
        const pid = s.workers.find((w) => w.state === 'running')?.pid
        return pid && pid !== before ? pid : undefined
      },
      'a replacement worker',
      20_000,
    )
    expect(after).not.toBe(before)
    expect(await redis.llen('resque:failed')).toBe(0)
  })
})

const FORKING = fixture('forking-worker.sh')
// The job child's pid, from the line it logs once it holds its memory.
const jobChildOf = (dir: string) => Number(/job (\d+) holds 250M/.exec(logOf(dir))?.[1])

describe('--max-rss on a worker whose forked job child grows, for real', () => {
  // A command worker (bash) that forks a node child per job holding 250M; the bash itself holds a few MiB.
  async function startForking(dir: string, seconds: number, args: string[]) {
    const command = `${FORKING} ${process.execPath} 250 ${seconds}`
    const result = await rpd([
      'start',
      'mem=1',
      '--command',
      command,
      '--max-rss',
      '150M',
      ...args,
      '--state-dir',
      dir,
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    const pid = (await waitFor(async () => (await status(dir)).workers[0]?.pid, 'the worker')) as number
    await waitFor(() => jobChildOf(dir) > 0, 'the job child to hold its memory')
    return { pid, child: jobChildOf(dir) }
  }

  it('QUITs the worker for its tree, then TERMs it once the grace has passed, and replaces it', async () => {
    const dir = newStateDir()
    const { pid, child } = await startForking(dir, 600, ['--max-rss-grace', '2s'])
    await waitFor(
      () =>
        new RegExp(
          `guard: max-rss: worker ${pid} and 1 descendant at \\d+M PSS > 150M for 3 samples: QUIT \\(stop after its job\\) \\(queues: mem\\)`,
        ).test(logOf(dir)),
      'the QUIT naming the tree',
      20_000,
    )
    await waitFor(() => logOf(dir).includes(`forking worker ${pid} got QUIT`), 'the worker to take QUIT')
    await waitFor(
      () =>
        new RegExp(
          `guard: max-rss: worker ${pid} and 1 descendant still at \\d+M PSS > 150M \\d+s after QUIT \\(grace 2s\\): TERM`,
        ).test(logOf(dir)),
      'the TERM after the grace',
      20_000,
    )
    await waitFor(() => !alive(child) && !alive(pid), 'the worker and its job child to end')
    // Its replacement holds 250M too, and goes the same way in its turn.
    const after = await waitFor(
      async () => (await status(dir)).workers.find((w) => w.pid !== pid)?.pid,
      'a replacement worker',
    )
    expect(after).not.toBe(pid)
    // Retired, not a crash: no back-off before the replacement, no restart counted.
    await waitFor(() => logOf(dir).includes(`Reaped worker[${pid}]`), 'the master to reap it')
    expect(logOf(dir)).not.toContain('exited unexpectedly')
    expect(logOf(dir)).not.toMatch(/max-rss: .* KILL/)
  })

  it('lets a job that ends within the grace finish: the worker exits on QUIT alone', async () => {
    const dir = newStateDir()
    const { pid, child } = await startForking(dir, 8, [])
    await waitFor(
      () =>
        new RegExp(`guard: max-rss: worker ${pid} and 1 descendant at \\d+M PSS > 150M .*QUIT`).test(
          logOf(dir),
        ),
      'the QUIT',
      20_000,
    )
    await waitFor(
      () => logOf(dir).includes(`forking worker ${pid} quit after its job`),
      'the worker to quit',
      20_000,
    )
    expect(logOf(dir)).toContain(`job ${child} done`)
    await waitFor(() => logOf(dir).includes(`Reaped worker[${pid}]`), 'the master to reap it')
    expect(logOf(dir)).not.toMatch(/max-rss: .*(TERM|KILL)/)
    await waitFor(async () => (await status(dir)).workers.some((w) => w.pid !== pid), 'a replacement worker')
  })
})

describeRuby('--max-rss on a Ruby Resque worker whose forked job grows', (ruby) => {
  it('QUITs the worker, lets its forked job finish, and replaces the worker', async () => {
    const dir = newStateDir()
    const started = await rpd(
      [
        'start',
        'mem=1',
        '--command',
        `rake -f ${RAKEFILE} resque:work`,
        '--max-rss',
        '150M',
        '--state-dir',
        dir,
      ],
      { env: { ...ruby, REDIS_URL: server.url, INTERVAL: '0.1' } },
    )
    expect(started.exitCode, started.stderr).toBe(0)
    const pid = (await waitFor(async () => (await status(dir)).workers[0]?.pid, 'the Ruby worker')) as number
    await waitFor(
      () => /Waiting for mem/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')),
      'Ruby to wait',
    )
    const enqueued = await rpd(['enqueue', 'mem', 'Grow', '250', '6', 'big', '--redis', server.url])
    expect(enqueued.exitCode, enqueued.stderr).toBe(0)
    await waitFor(
      () =>
        new RegExp(`guard: max-rss: worker ${pid} and 1 descendant at \\d+M PSS > 150M .*QUIT`).test(
          logOf(dir),
        ),
      'the QUIT naming the Ruby worker and its job child',
      20_000,
    )
    await waitFor(
      async () => (await redis.lrange('test:done', 0, -1)).some((entry) => entry.includes('"big"')),
      'the forked job to finish',
      20_000,
    )
    await waitFor(
      async () => (await status(dir)).workers.some((w) => w.pid !== pid),
      'a replacement worker',
      20_000,
    )
    expect(logOf(dir)).not.toMatch(/max-rss: .*(TERM|KILL)/)
    expect(await redis.llen('resque:failed')).toBe(0)
  })
})
