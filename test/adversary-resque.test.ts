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
