import fs from 'node:fs'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor, type StatusJson } from './helpers/cli.js'
import { type RedisServer, startRedis, usePrivateRedis } from './helpers/redis.js'

const JOBS = fixture('jobs-sleep.mjs')
let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

interface AutoscaleJson {
  min: number
  max: number
  desired: number
  reason: string
  at: string | null
  inputs: {
    depth: number
    busy: number
    rate: number
    jobSeconds: number | null
    latency: number | null
  } | null
  dryRun?: boolean
}
const autoscaleOf = (s: StatusJson) => s.autoscale as Record<string, AutoscaleJson> | undefined
const running = (s: StatusJson, group: string) =>
  s.workers.filter((w) => w.queues === group && w.state === 'running').length
const live = (s: StatusJson, group: string) =>
  s.workers.filter((w) => w.queues === group && w.state !== 'backoff').length

async function start(dir: string, specs: string[], url = server.url) {
  const result = await rpd(['start', ...specs, '--jobs', JOBS, '--redis', url, '--state-dir', dir])
  expect(result.exitCode, result.stderr).toBe(0)
}

// Pushes jobs as Resque.enqueue does, each with its own tag so that every run can be counted.
async function enqueueNaps(queue: string, count: number, ms: number, prefix = 'job', client = redis) {
  const pipeline = client.pipeline().sadd('resque:queues', queue)
  for (let i = 0; i < count; i++)
    pipeline.rpush(`resque:queue:${queue}`, JSON.stringify({ class: 'Nap', args: [ms, `${prefix}-${i}`] }))
  await pipeline.exec()
}

// Polls status until pred holds; returns that status.
async function statusWhen(dir: string, pred: (s: StatusJson) => boolean, what: string, timeoutMs = 15_000) {
  let last: StatusJson | undefined
  await waitFor(
    async () => {
      last = await status(dir)
      return pred(last)
    },
    what,
    timeoutMs,
  )
  return last!
}

const logOf = (dir: string) => fs.readFileSync(path.join(dir, 'master.log'), 'utf8')

describe('autoscaling: a group sized by its queues', () => {
  it('300 jobs into a 0..6 group grow it in one decision, run each job once, and it returns to 0', async () => {
    const dir = newStateDir()
    await start(dir, ['images=0..6', 'mail=1'])
    expect((await rpd(['autoscale', 'images', '--down-after', '3s', '--state-dir', dir])).exitCode).toBe(0)
    let s = await status(dir)
    expect(live(s, 'images')).toBe(0)
    expect(autoscaleOf(s)?.images).toMatchObject({ min: 0, max: 6, desired: 0 })
    await enqueueNaps('images', 300, 40)
    s = await statusWhen(dir, (now) => running(now, 'images') >= 4, 'the group to grow')
    // One decision to the needed count, with its cause, not +1 steps.
    const growth = /autoscale: images 0 -> (\d+) \([^)]*?(\d+) queued/.exec(logOf(dir))
    if (!growth)
      console.log(
        logOf(dir)
          .split('\n')
          .filter((l) => l.includes('master['))
          .join('\n'),
      )
    expect(growth).not.toBeNull()
    expect(Number(growth![1])).toBeGreaterThanOrEqual(4)
    // A manual group is not touched by any of it.
    expect(running(s, 'mail')).toBe(1)
    await waitFor(async () => (await redis.llen('test:done')) === 300, 'every job done', 60_000)
    const tags = (await redis.lrange('test:done', 0, -1)).map((line) => JSON.parse(line).tag as string)
    expect(new Set(tags).size).toBe(300)
    // After the window with empty queues and nobody busy, back to zero.
    await waitFor(async () => live(await status(dir), 'images') === 0, 'the group back at 0', 20_000)
    expect(logOf(dir)).toMatch(/autoscale: images \d+ -> 0 \(queues empty and no worker busy for 3 s\)/)
    expect(await redis.llen('test:done')).toBe(300)
  })

  it('never stops a busy worker on the way down', async () => {
    const dir = newStateDir()
    await start(dir, ['work=0..3'])
    await rpd(['autoscale', 'work', '--down-after', '2s', '--state-dir', dir])
    await enqueueNaps('work', 40, 30, 'short')
    await enqueueNaps('work', 1, 7000, 'long')
    await waitFor(async () => running(await status(dir), 'work') >= 2, 'the group to grow')
    const long = await waitFor(async () => {
      const started = (await redis.lrange('test:started', 0, -1)).map((line) => JSON.parse(line))
      return started.find((job) => job.tag === 'long-0') as { pid: number } | undefined
    }, 'the long job to start')
    // The others drain and go idle; the window passes; only the busy one must remain, still running.
    const s = await statusWhen(
      dir,
      (now) => now.workers.filter((w) => w.queues === 'work').length === 1,
      'the idle workers to be stopped',
      20_000,
    )
    expect(s.workers[0]).toMatchObject({ pid: long.pid, state: 'running' })
    expect(await redis.lrange('test:done', 0, -1)).not.toContainEqual(expect.stringContaining('long-0'))
    await waitFor(async () => (await redis.llen('test:done')) === 41, 'the long job to finish', 20_000)
  })

  it('a count makes an automatic group manual, a range makes it automatic again', async () => {
    const dir = newStateDir()
    await start(dir, ['images=0..4'])
    const manual = await rpd(['scale', 'images=2', '--state-dir', dir])
    expect(manual.exitCode, manual.stderr).toBe(0)
    expect(manual.stdout).toMatch(/images is manual now, fixed at 2/)
    let s = await status(dir)
    expect(running(s, 'images')).toBe(2)
    expect(autoscaleOf(s)).toBeUndefined()
    const refused = await rpd(['scale', 'images=+1', '--state-dir', dir])
    expect(refused.exitCode).toBe(0)
    const automatic = await rpd(['scale', 'images=1..4', '--state-dir', dir])
    expect(automatic.exitCode, automatic.stderr).toBe(0)
    s = await status(dir)
    expect(autoscaleOf(s)?.images).toMatchObject({ min: 1, max: 4 })
    const relative = await rpd(['scale', 'images=+1', '--state-dir', dir])
    expect(relative.exitCode).toBe(2)
    expect(relative.stderr).toMatch(/images is automatic \(1\.\.4\)/)
    const config = await rpd(['config', '--state-dir', dir])
    expect(config.stdout).toMatch(/images: 1\.\.4/)
  })

  it('holds its counts while Redis is away, says so once, and carries on when it returns', async () => {
    const own = await startRedis()
    let second: RedisServer | undefined
    try {
      const dir = newStateDir()
      await start(dir, ['slow=0..3'], own.url)
      await rpd(['autoscale', 'slow', '--down-after', '2s', '--state-dir', dir])
      await enqueueNaps('slow', 30, 20_000, 'slow', own.client())
      const grown = await statusWhen(dir, (now) => running(now, 'slow') === 3, 'the group to grow')
      await own.stop()
      await waitFor(
        () => /autoscale: slow 3 \(Redis unreachable: holding 3 workers/.test(logOf(dir)),
        'the hold',
      )
      // Twice the down window without samples changes nothing.
      const heldAt = Date.now()
      await waitFor(() => Date.now() - heldAt > 4_000, 'time to pass', 6_000, 500)
      const held = await status(dir)
      expect(held.workers.map((w) => w.pid).sort()).toEqual(grown.workers.map((w) => w.pid).sort())
      expect(logOf(dir).match(/Redis unreachable: holding/g)).toHaveLength(1)
      second = await startRedis(own.port)
      await waitFor(() => /Redis answering again/.test(logOf(dir)), 'the return', 20_000)
    } finally {
      await second?.stop()
      await own.stop()
    }
  })

  it('--dry-run logs what it would do and changes nothing', async () => {
    const dir = newStateDir()
    await start(dir, ['images=1..4'])
    await rpd(['autoscale', '--dry-run', '--state-dir', dir])
    const before = (await status(dir)).workers.map((w) => w.pid)
    await enqueueNaps('images', 200, 200)
    await waitFor(() => /autoscale \(dry run\): images 1 -> 4/.test(logOf(dir)), 'the dry-run decision')
    const s = await statusWhen(dir, (now) => autoscaleOf(now)?.images.desired === 4, 'status to show it')
    expect(s.workers.map((w) => w.pid)).toEqual(before)
    expect(autoscaleOf(s)?.images).toMatchObject({ dryRun: true, desired: 4, running: 1 })
  })

  it('refuses a range when the pool knows no Redis', async () => {
    const dir = newStateDir()
    const result = await rpd(['start', 'images=0..4', '--command', 'sleep 100', '--state-dir', dir], {
      env: { REDIS_URL: '' },
    })
    expect(result.exitCode).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/images=0\.\.4 is automatic.*--redis/)
    expect(fs.existsSync(path.join(dir, 'pool.yml'))).toBe(false)
  })
})
