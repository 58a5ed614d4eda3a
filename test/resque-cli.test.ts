import fs from 'node:fs'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor, type StatusJson } from './helpers/cli.js'
import { freePort, type RedisServer, usePrivateRedis } from './helpers/redis.js'

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

// No REDIS_URL from the environment running the tests: each test says which Redis it means.
const ENV = { INTERVAL: '0.1', REDIS_URL: '' }

async function startBuiltin(dir: string, specs: string[], jobs = fixture('jobs.mjs')): Promise<StatusJson> {
  const result = await rpd(['start', ...specs, '--jobs', jobs, '--redis', server.url, '--state-dir', dir], {
    env: ENV,
  })
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
  return status(dir)
}

describe('rpd enqueue', () => {
  it('pushes {"class","args"} as Ruby Resque does, each argument as JSON when it parses', async () => {
    const result = await rpd(
      [
        'enqueue',
        'mail',
        'Mailer::Deliver',
        '3',
        'x',
        '{"a":1}',
        '"q"',
        'true',
        'null',
        '1e3',
        '--redis',
        server.url,
      ],
      { env: ENV },
    )
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe(
      `enqueued 1 Mailer::Deliver job on mail (${server.url}, namespace resque); mail now holds 1`,
    )
    expect(await redis.smembers('resque:queues')).toEqual(['mail'])
    expect(await redis.lrange('resque:queue:mail', 0, -1)).toEqual([
      '{"class":"Mailer::Deliver","args":[3,"x",{"a":1},"q",true,null,1e3]}',
    ])
  })

  it('--count pushes N copies; --namespace picks the key prefix', async () => {
    const result = await rpd(
      ['enqueue', 'load', 'Record', 'n', '--count', '250', '--namespace', 'other', '--redis', server.url],
      { env: ENV },
    )
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('enqueued 250 Record jobs on load')
    expect(await redis.llen('other:queue:load')).toBe(250)
    expect(new Set(await redis.lrange('other:queue:load', 0, -1))).toEqual(
      new Set(['{"class":"Record","args":["n"]}']),
    )
    expect(await redis.smembers('other:queues')).toEqual(['load'])
    expect(await redis.exists('resque:queues')).toBe(0)
  })

  it('defaults to the Redis and namespace saved in the pool, and the pool runs what it pushed', async () => {
    const dir = newStateDir()
    const result = await rpd(
      [
        'start',
        'foo=1',
        '--jobs',
        fixture('jobs.mjs'),
        '--redis',
        server.url,
        '--namespace',
        'app',
        '--state-dir',
        dir,
      ],
      { env: ENV },
    )
    expect(result.exitCode).toBe(0)
    const pushed = await rpd(['enqueue', 'foo', 'Record', 'from-pool', '--state-dir', dir], { env: ENV })
    expect(pushed.stderr).toBe('')
    expect(pushed.stdout).toContain(`(${server.url}, namespace app)`)
    // A job is counted as processed once perform has returned: wait for the count, not for the job's own mark.
    await waitFor(async () => (await redis.get('app:stat:processed')) === '1', 'the job to run')
    expect(await redis.lrange('test:done', 0, -1)).toHaveLength(1)
    expect(await redis.exists('resque:stat:processed')).toBe(0)
  })

  it('rejects bad input with one line and exit 2, and an unreachable Redis with exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['enqueue', 'a b', 'Foo'], /queue name "a b" contains " "/],
      [['enqueue', 'foo,bar', 'Foo'], /names several queues/],
      [['enqueue', 'foo', 'Bad Class'], /bad job class "Bad Class"/],
      [['enqueue', 'foo', 'Foo', '--count', '0'], /count/i],
      [['enqueue', 'foo', 'Foo', '--redis', 'localhost:6379'], /bad Redis URL/],
      [['enqueue', 'foo'], /^rpd: missing CLASS: rpd enqueue QUEUE CLASS \[ARG\.\.\.\]/],
      [['enqueue'], /^rpd: missing QUEUE and CLASS/],
    ]
    for (const [args, message] of cases) {
      const result = await rpd(args, { env: ENV })
      expect(result.exitCode, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
    }
    const dead = `redis://127.0.0.1:${await freePort()}`
    const result = await rpd(['enqueue', 'foo', 'Foo', '--redis', dead], { env: ENV })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toBe(
      `rpd: cannot reach Redis at ${dead}: connect ECONNREFUSED ${dead.slice(8)}; start redis-server or pass --redis URL`,
    )
  })
})

describe('rpd start --jobs', () => {
  it('refuses a missing jobs module (exit 2), one that throws (exit 2) and an unreachable Redis (exit 1)', async () => {
    const missing = path.join(path.dirname(fixture('jobs.mjs')), 'no-such-jobs.mjs')
    const dead = `redis://127.0.0.1:${await freePort()}`
    const cases: [string[], number, string][] = [
      [
        ['--jobs', missing, '--redis', server.url],
        2,
        `rpd: jobs module ${missing} not found: pass --jobs the path of a .js, .mjs or .cjs file`,
      ],
      [
        ['--jobs', fixture('jobs-broken.mjs'), '--redis', server.url],
        2,
        `rpd: jobs module ${fixture('jobs-broken.mjs')} failed to load: database config missing; fix it, then start again`,
      ],
      [
        ['--jobs', fixture('jobs.mjs'), '--redis', dead],
        1,
        `rpd: cannot reach Redis at ${dead}: connect ECONNREFUSED ${dead.slice(8)}; start redis-server or pass --redis URL`,
      ],
    ]
    for (const [flags, exit, stderr] of cases) {
      const dir = newStateDir()
      const result = await rpd(['start', 'foo=1', ...flags, '--state-dir', dir], { env: ENV })
      expect(result.stderr).toBe(stderr)
      expect(result.exitCode).toBe(exit)
      expect(fs.existsSync(path.join(dir, 'master.pid'))).toBe(false)
    }
  })

  it('runs a CommonJS jobs module', async () => {
    const dir = newStateDir()
    await startBuiltin(dir, ['foo=1'], fixture('jobs-cjs.cjs'))
    await rpd(['enqueue', 'foo', 'Record', 'c1', '--redis', server.url], { env: ENV })
    await waitFor(async () => (await redis.lrange('test:done', 0, -1)).length === 1, 'the job to run')
    expect(JSON.parse((await redis.lindex('test:done', 0))!)).toMatchObject({ tag: 'c1', cjs: true })
  })
})

describe('rpd status with Resque', () => {
  it('shows queue depths, per-worker idle / busy / paused and the totals, in JSON and for humans', async () => {
    const dir = newStateDir()
    await startBuiltin(dir, ['foo=2'])
    await rpd(['enqueue', 'foo', 'Record', 'r1', '--redis', server.url], { env: ENV })
    await rpd(['enqueue', 'foo', 'Fail', 'f1', '--redis', server.url], { env: ENV })
    await waitFor(async () => (await status(dir)).redis, 'totals')
    const settled = await waitFor(async () => {
      const s = await status(dir)
      // Busy/idle reaches status.json in batches (within 250 ms), so wait for both to settle.
      const counted = (s.redis as { processed: number }).processed === 2
      return counted && s.workers.every((w) => w.job === null) ? s : undefined
    }, 'both jobs to be counted and both workers idle')
    expect(settled.redis).toEqual({ queues: { foo: 0 }, processed: 2, failed: 1 })
    expect(settled.workers.map((w) => w.job)).toEqual([null, null])

    expect((await rpd(['pause', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(
      async () => (await status(dir)).workers.every((w) => (w as { paused?: boolean }).paused),
      'both to pause',
    )
    await rpd(['enqueue', 'foo', 'Record', 'r2', '--count', '2', '--redis', server.url], { env: ENV })
    await rpd(['enqueue', 'bar', 'Record', 'r3', '--redis', server.url], { env: ENV })
    const paused = await status(dir)
    expect(paused.redis).toEqual({ queues: { bar: 1, foo: 2 }, processed: 2, failed: 1 })
    const human = await rpd(['status', '--state-dir', dir])
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toContain(
      `Resque (${server.url}, namespace resque):\n  queues: bar: 1, foo: 2\n  workers: 0 busy, 2 idle, 2 paused\n  processed: 2, failed: 1`,
    )
    expect(human.stdout).toMatch(/\d+ \S+ resque-2\.7\.0: Paused {2}\(foo, running, idle, paused\)/)
  })

  it('shows a busy worker with its job class, queue and start', async () => {
    const dir = newStateDir()
    await startBuiltin(dir, ['foo=1'])
    await rpd(['enqueue', 'foo', 'Hold', 'b1', '--redis', server.url], { env: ENV })
    const s = await waitFor(async () => {
      const now = await status(dir)
      return now.workers[0].job ? now : undefined
    }, 'the worker to report busy')
    const job = s.workers[0].job as { class: string; queue: string; since: string }
    expect(job).toEqual({ class: 'Hold', queue: 'foo', since: expect.any(String) })
    const human = await rpd(['status', '--state-dir', dir])
    expect(human.stdout).toMatch(
      /resque-2\.7\.0: Processing foo since \d+ \[Hold\] {2}\(foo, running, busy: Hold on foo since \S+\)/,
    )
    expect(human.stdout).toContain('workers: 1 busy, 0 idle')
    await redis.set('test:release:b1', '1')
  })
})
