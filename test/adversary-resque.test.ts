import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor } from './helpers/cli.js'
import { type RedisServer, usePrivateRedis } from './helpers/redis.js'

const JOBS = fixture('jobs-hostile.mjs')
let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(() => cleanupStates())

const logOf = (dir: string) => fs.readFileSync(path.join(dir, 'master.log'), 'utf8')

async function startBuiltin(dir: string, specs: string[], jobs = JOBS) {
  const result = await rpd(['start', ...specs, '--jobs', jobs, '--redis', server.url, '--state-dir', dir], {
    env: { INTERVAL: '0.1', REDIS_URL: '' },
  })
  expect(result.exitCode, result.stderr).toBe(0)
  return status(dir)
}

async function enqueue(queue: string, className: string, ...args: string[]) {
  const result = await rpd(['enqueue', queue, className, ...args, '--redis', server.url])
  expect(result.exitCode, result.stderr).toBe(0)
}

async function failures(): Promise<Record<string, unknown>[]> {
  return (await redis.lrange('resque:failed', 0, -1)).map((e) => JSON.parse(e) as Record<string, unknown>)
}

describe('built-in workers that end unexpectedly', () => {
  it('a job calling process.exit(0): the worker leaves Redis and its job is recorded failed', async () => {
    const dir = newStateDir()
    const before = await startBuiltin(dir, ['foo=1'])
    const id = `${os.hostname()}:${before.workers[0].pid}:foo`
    await waitFor(async () => (await redis.smembers('resque:workers')).includes(id), 'registered')
    await enqueue('foo', 'ExitZero')
    await waitFor(() => logOf(dir).includes(`exited unexpectedly (status: 0)`), 'the exit reaped')
    await waitFor(async () => (await failures()).length === 1, 'the job recorded failed')
    expect(await redis.sismember('resque:workers', id)).toBe(0)
    expect(await redis.exists(`resque:worker:${id}`)).toBe(0)
    expect((await failures())[0]).toMatchObject({ queue: 'foo', payload: { class: 'ExitZero' } })
    expect(logOf(dir)).toContain(`removed dead worker ${id} from Redis; its job ExitZero on foo`)
  })
})

describe('errors that no job caught', () => {
  const workerId = (pid: number) => `${os.hostname()}:${pid}:foo`

  async function startOne(dir: string) {
    const before = await startBuiltin(dir, ['foo=1'])
    const pid = before.workers[0].pid
    await waitFor(async () => (await redis.smembers('resque:workers')).includes(workerId(pid)), 'registered')
    return pid
  }

  async function replaced(dir: string, pid: number) {
    await waitFor(async () => {
      const s = await status(dir)
      return s.workers.some((w) => w.pid !== pid && w.state === 'running')
    }, 'a new worker in place of the one that exited')
    expect(logOf(dir)).toMatch(new RegExp(`worker\\[${pid}\\] exited unexpectedly \\(status: 1\\)`))
    expect(await redis.sismember('resque:workers', workerId(pid))).toBe(0)
  }

  it('a throw from a timer after perform returned is recorded as its own error, against its job', async () => {
    const dir = newStateDir()
    const pid = await startOne(dir)
    await enqueue('foo', 'ThrowLater', 'a')
    await waitFor(async () => (await failures()).length === 1, 'the late throw recorded')
    const [failure] = await failures()
    expect(failure).toMatchObject({
      exception: 'Error',
      error: 'late throw from a',
      queue: 'foo',
      payload: { class: 'ThrowLater', args: ['a'] },
      worker: workerId(pid),
    })
    expect(String((failure.backtrace as string[])[0])).toContain('jobs-hostile.mjs')
    await replaced(dir, pid)
    expect(await redis.get('resque:stat:failed')).toBe('1')
    expect(await redis.get('resque:stat:processed')).toBe('1')
    expect(logOf(dir)).toContain('uncaught Error: late throw from a (raised by ThrowLater); the worker exits')
  })

  it('an unawaited rejection fails its job with the rejection, not DirtyExit', async () => {
    const dir = newStateDir()
    const pid = await startOne(dir)
    await enqueue('foo', 'RejectUnawaited', 'b')
    await waitFor(async () => (await failures()).length === 1, 'the rejection recorded')
    expect((await failures())[0]).toMatchObject({
      exception: 'TypeError',
      error: 'unawaited rejection from b',
      payload: { class: 'RejectUnawaited', args: ['b'] },
    })
    await replaced(dir, pid)
    expect(await redis.get('resque:stat:failed')).toBe('1')
  })

  it('a throw that surfaces while another job runs is charged to the job that raised it', async () => {
    const dir = newStateDir()
    const pid = await startOne(dir)
    // Queued together: Slow starts as soon as ThrowLater returns, and is running when the timer throws.
    await redis.sadd('resque:queues', 'foo')
    await redis.rpush(
      'resque:queue:foo',
      JSON.stringify({ class: 'ThrowLater', args: ['c', 500] }),
      JSON.stringify({ class: 'Slow', args: ['innocent', 5000] }),
    )
    await waitFor(async () => (await failures()).length === 2, 'both jobs recorded')
    const byClass = Object.fromEntries(
      (await failures()).map((f) => [(f.payload as { class: string }).class, f]),
    )
    expect(byClass.ThrowLater).toMatchObject({ exception: 'Error', error: 'late throw from c' })
    expect(byClass.Slow).toMatchObject({
      exception: 'Resque::DirtyExit',
      error: 'the worker stopped: ThrowLater raised Error and nothing caught it',
    })
    expect(await redis.lrange('test:done', 0, -1)).toEqual([])
    await replaced(dir, pid)
  })
})

describe('a jobs module that never finishes loading', () => {
  it('start names the module and its top-level await, exit 2, and no master runs', async () => {
    const dir = newStateDir()
    const jobs = fixture('jobs-never-loads.mjs')
    const result = await rpd(['start', 'foo=1', '--jobs', jobs, '--redis', server.url, '--state-dir', dir])
    expect(result.exitCode).toBe(2)
    expect(result.stderr.trim()).toBe(
      `rpd: jobs module ${jobs} never finished loading: its top-level await waits on a promise nothing can settle; fix it, then start again`,
    )
    expect(fs.existsSync(path.join(dir, 'master.pid'))).toBe(false)
  })
})

describe('payloads that are not jobs', () => {
  it('{"args":[1]}, 42 and null fail with a message that says what is wrong', async () => {
    const dir = newStateDir()
    await startBuiltin(dir, ['foo=1'])
    await redis.sadd('resque:queues', 'foo')
    for (const text of ['{"args":[1]}', '42', 'null', '{nope']) await redis.rpush('resque:queue:foo', text)
    await waitFor(async () => (await failures()).length === 4, 'four failures')
    const seen = (await failures()).map((f) => `${String(f.exception)}: ${String(f.error)}`)
    expect(seen).toEqual([
      'ArgumentError: job payload has no "class" to run: {"args":[1]}',
      'ArgumentError: job payload 42 is not a JSON object with "class" and "args"',
      'ArgumentError: job payload null is not a JSON object with "class" and "args"',
      'JSON::ParserError: unexpected token in job {nope',
    ])
  })
})
