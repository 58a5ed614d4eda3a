import fs from 'node:fs'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor, type StatusJson } from './helpers/cli.js'
import { type RedisServer, usePrivateRedis } from './helpers/redis.js'

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
