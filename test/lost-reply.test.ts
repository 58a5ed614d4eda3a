import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { cleanupStates, fixture, newStateDir, rpd, waitFor } from './helpers/cli.js'
import { type RedisServer, freePort, usePrivateRedis } from './helpers/redis.js'

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})

// A TCP proxy in front of Redis that, once armed, cuts the next connection that sends a script the moment
// Redis answers it: Redis has run the script, the worker never hears so.
class ReplyCutter {
  private readonly server = net.createServer((client) => this.pair(client))
  private armed = false
  cuts = 0

  constructor(private readonly target: number) {}

  private pair(client: net.Socket): void {
    const upstream = net.connect(this.target, '127.0.0.1')
    let sentScript = false
    client.on('data', (chunk) => {
      if (/EVALSHA|EVAL/i.test(chunk.toString('latin1'))) sentScript = true
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (this.armed && sentScript) {
        this.armed = false
        this.cuts++
        client.destroy()
        upstream.destroy()
        return
      }
      client.write(chunk)
    })
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined)
      socket.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
  }

  arm(): void {
    this.armed = true
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve))
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

let cutter: ReplyCutter | undefined
afterEach(async () => {
  cleanupStates()
  await cutter?.close()
  cutter = undefined
})

// A pool of one chaos worker whose Redis connections all go through a new ReplyCutter (closed after the test).
async function startBehindCutter(): Promise<{ dir: string; proxy: ReplyCutter }> {
  const port = await freePort()
  const proxy = new ReplyCutter(server.port)
  cutter = proxy
  await proxy.listen(port)
  const dir = newStateDir()
  const started = await rpd(
    [
      'start',
      'chaos=1',
      '--jobs',
      fixture('jobs-chaos.mjs'),
      '--redis',
      `redis://127.0.0.1:${port}`,
      '--state-dir',
      dir,
    ],
    { env: { INTERVAL: '0.05' } },
  )
  expect(started.exitCode, started.stderr).toBe(0)
  return { dir, proxy }
}

describe('a reply lost after Redis ran the per-job script', () => {
  it('loses no job and runs none twice: the script sent again does not take another', async () => {
    const JOBS = 300
    const pipeline = redis.pipeline().sadd('resque:queues', 'chaos')
    for (let id = 0; id < JOBS; id++)
      pipeline.rpush('resque:queue:chaos', JSON.stringify({ class: 'Count', args: [id] }))
    await pipeline.exec()

    const { dir, proxy } = await startBehindCutter()
    // Three times, while jobs are still queued: each cut reply is one the worker's script took a job with.
    for (let cut = 1; cut <= 3; cut++) {
      const done = await redis.hlen('chaos:done')
      await waitFor(async () => (await redis.hlen('chaos:done')) >= done + 20, `jobs before cut ${cut}`)
      proxy.arm()
      await waitFor(() => proxy.cuts === cut, `cut ${cut}`)
    }
    expect(await redis.llen('resque:queue:chaos')).toBeGreaterThan(0)

    await waitFor(async () => (await redis.llen('resque:queue:chaos')) === 0, 'the queue to drain', 30_000)
    // Every job once: a lost one would be missing, one run twice would count 2.
    await waitFor(
      async () => (await redis.hlen('chaos:done')) === JOBS,
      `all ${JOBS} jobs done`,
      15_000,
    ).catch(() => undefined)
    const counts = await redis.hgetall('chaos:done')
    const missing = Array.from({ length: JOBS }, (_, id) => String(id)).filter((id) => !(id in counts))
    expect(missing).toEqual([])
    expect(Object.entries(counts).filter(([, n]) => n !== '1')).toEqual([])
    expect(Number(await redis.get('resque:stat:processed'))).toBe(JOBS)
    expect(await redis.llen('resque:failed')).toBe(0)
    // The worker's record of its last step goes with it.
    expect(await redis.keys('resque:rpd-step:*')).toHaveLength(1)
    const stopped = await rpd(['stop', '--state-dir', dir])
    expect(stopped.exitCode, stopped.stderr).toBe(0)
    expect(await redis.keys('resque:rpd-step:*')).toEqual([])
  }, 90_000)

  it("records a failed last job once when the exit's reply is lost and the exit is sent again", async () => {
    const { dir, proxy } = await startBehindCutter()
    await redis.rpush('resque:queue:chaos', JSON.stringify({ class: 'HoldThenFail', args: [] }))
    await waitFor(async () => (await redis.exists('chaos:started')) === 1, 'the job to start')
    // Stopped while the job runs: the worker finishes it, then sends its exit carrying that job's failure.
    const stopping = rpd(['stop', '--state-dir', dir])
    await waitFor(
      () => fs.readFileSync(path.join(dir, 'master.log'), 'utf8').includes('QUIT: finishing HoldThenFail'),
      'the worker to take the QUIT',
    )
    // No script goes out while the job runs, so the next reply cut is the exit's: Redis ran it, the worker
    // never hears, and sends it again through its other connection.
    proxy.arm()
    await redis.set('chaos:release', '1')
    const stopped = await stopping
    expect(stopped.exitCode, stopped.stderr).toBe(0)
    expect(proxy.cuts).toBe(1)
    expect(await redis.llen('resque:failed')).toBe(1)
    expect(Number(await redis.get('resque:stat:failed'))).toBe(1)
    expect(Number(await redis.get('resque:stat:processed'))).toBe(1)
    expect(await redis.smembers('resque:workers')).toEqual([])
    expect(await redis.keys('resque:rpd-step:*')).toEqual([])
  }, 60_000)
})
