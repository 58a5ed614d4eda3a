import fs from 'node:fs'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { ResqueKeys } from '../src/resque/keys.js'
import { WorkerRegistry } from '../src/resque/registry.js'
import { cleanupStates, fixture, newStateDir, rpd, rpdSpawn, status, waitFor } from './helpers/cli.js'
import { type RedisServer, startRedis } from './helpers/redis.js'

// Built-in workers stopped while their Redis is away (killed) or frozen (SIGSTOP): a job that finished is counted
// once Redis is back, never failed, and the stop keeps to its timeout.
const JOBS = fixture('jobs-sleep.mjs')

const servers: RedisServer[] = []
const frozen: number[] = []
afterEach(async () => {
  for (const pid of frozen.splice(0)) signal(pid, 'SIGCONT')
  cleanupStates()
  for (const server of servers.splice(0)) await server.stop()
})

async function redisServer(port?: number): Promise<RedisServer> {
  const server = await startRedis(port)
  servers.push(server)
  return server
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // gone
  }
}

async function startPool(dir: string, url: string, count: number): Promise<number[]> {
  const result = await rpd(['start', `foo=${count}`, '--jobs', JOBS, '--redis', url, '--state-dir', dir], {
    env: { INTERVAL: '0.1', REDIS_URL: '' },
  })
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
  return (await status(dir)).workers.map((w) => w.pid)
}

// Pushes one NapThenTouch job per entry, as Ruby's Resque.enqueue would; returns the files they create.
async function enqueueNaps(redis: Redis, dir: string, naps: number[]): Promise<string[]> {
  const files = naps.map((_, i) => path.join(path.dirname(dir), `done-${i}`))
  await redis.sadd('resque:queues', 'foo')
  for (const [i, ms] of naps.entries())
    await redis.rpush('resque:queue:foo', JSON.stringify({ class: 'NapThenTouch', args: [ms, files[i]] }))
  await waitFor(async () => (await redis.llen('test:started')) === naps.length, 'every job to start')
  return files
}

// What Redis holds of the pool once everything it was sent has landed.
async function leftovers(redis: Redis) {
  return {
    processed: await redis.get('resque:stat:processed'),
    failed: (await redis.lrange('resque:failed', 0, -1)).map(
      (entry) => (JSON.parse(entry) as { exception: string }).exception,
    ),
    workers: await redis.smembers('resque:workers'),
    heartbeats: await redis.hkeys('resque:workers:heartbeat'),
    keys: (await redis.keys('resque:worker*')).concat(await redis.keys('resque:stat:*:*')),
    queued: await redis.llen('resque:queue:foo'),
  }
}

describe('stopping built-in workers while Redis is away', () => {
  it('Redis killed: jobs that finished meanwhile are counted when it returns during the stop, none fails', async () => {
    const first = await redisServer()
    const dir = newStateDir()
    const pids = await startPool(dir, first.url, 2)
    const files = await enqueueNaps(first.client(), dir, [300, 300])
    await first.stop()
    await waitFor(() => files.every((file) => fs.existsSync(file)), 'both jobs to finish without Redis')
    const log = () => fs.readFileSync(path.join(dir, 'master.log'), 'utf8')
    await waitFor(
      () => pids.every((pid) => log().includes(`foo[${pid}]: lost Redis`)),
      'the workers to notice Redis is gone',
    )
    const stopping = rpdSpawn(['stop', '--timeout', '60', '--state-dir', dir])
    await waitFor(
      () => pids.every((pid) => log().includes(`foo[${pid}]: QUIT: exiting`)),
      'the QUIT to arrive',
    )
    // The same port, an empty Redis: what it ends up holding is what the workers sent once it was back.
    const second = await redisServer(first.port)
    const stopped = await stopping
    expect(stopped.exitCode).toBe(0)
    const redis = second.client()
    expect(await leftovers(redis)).toEqual({
      processed: '2',
      failed: [],
      workers: [],
      heartbeats: [],
      keys: [],
      queued: 0,
    })
  })

  it('Redis frozen: stop --timeout keeps to its timeout, and Redis applies every exit when it resumes', async () => {
    const server = await redisServer()
    const dir = newStateDir()
    await startPool(dir, server.url, 3)
    // Two jobs end during the stop, one is still running at its timeout and is interrupted.
    await enqueueNaps(server.client(), dir, [800, 800, 60_000])
    const redisPid = server.process.pid!
    signal(redisPid, 'SIGSTOP')
    frozen.push(redisPid)
    const timeoutS = 5
    const began = Date.now()
    const stopped = await rpd(['stop', '--timeout', String(timeoutS), '--state-dir', dir])
    const seconds = (Date.now() - began) / 1000
    expect(stopped.exitCode).toBe(0)
    // TERM at the timeout; each worker then waits at most 1 s for Redis. Before, it took the timeout plus 5 s.
    expect(seconds).toBeGreaterThan(timeoutS)
    expect(seconds).toBeLessThan(timeoutS + 2.5)
    expect(stopped.stdout).toContain('escalating to TERM')
    signal(redisPid, 'SIGCONT')
    const redis = server.client()
    const expected = {
      processed: '3',
      failed: ['Resque::TermException'],
      workers: [],
      heartbeats: [],
      keys: [],
      queued: 0,
    }
    await waitFor(
      async () => JSON.stringify(await leftovers(redis)) === JSON.stringify(expected),
      'Redis to apply the exits',
      5_000,
    ).catch(async (error: Error) => {
      expect(await leftovers(redis)).toEqual(expected)
      throw error
    })
  })
})

describe("a worker's exit script", () => {
  it('puts a job that a reserve took but the worker never started back at the head of its queue, as queued', async () => {
    const server = await redisServer()
    const redis = server.client()
    const registry = new WorkerRegistry(redis, new ResqueKeys('resque'), 'host:1:foo,bar')
    await registry.register('2024-01-01 00:00:00 +0000')
    const jobs = ['{"class":"A","args":[12345678901234567890]}', 'not json', '{"class":"B" , "args":[]}']
    for (const job of jobs) {
      await registry.register('2024-01-01 00:00:00 +0000')
      await redis.del('resque:queue:bar')
      await redis.rpush('resque:queue:bar', job, 'next')
      // What a reserve still on its way when the worker decided to exit leaves behind.
      expect(await registry.advance(['foo', 'bar'], new Date())).toEqual({ queue: 'bar', text: job })
      expect(await registry.retire(['foo', 'bar']).reply).toBe('done')
      expect(await redis.lrange('resque:queue:bar', 0, -1)).toEqual([job, 'next'])
      expect(await redis.smembers('resque:workers')).toEqual([])
      expect(await redis.exists('resque:worker:host:1:foo,bar')).toBe(0)
    }
  })
})
