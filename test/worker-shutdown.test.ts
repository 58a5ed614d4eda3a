import { spawn } from 'node:child_process'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { connectForever } from '../src/resque/redis-client.js'
import { ResqueKeys } from '../src/resque/keys.js'
import { ResqueWorker } from '../src/resque/worker.js'
import { ROOT, fixture, waitFor } from './helpers/cli.js'
import { type RedisServer, usePrivateRedis } from './helpers/redis.js'

// The built worker entry, as the master spawns it.
const WORKER_ENTRY = path.join(ROOT, 'dist/worker/worker-main.js')

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})

// A worker asked to stop while it is still registering must not register after it unregistered: that
// left a ghost in resque:workers with no process behind it.
describe('a built-in worker stopped while it registers', () => {
  for (const stop of ['stopGracefully', 'stopNow'] as const) {
    it(`leaves no registration behind (${stop} before the connection is ready)`, async () => {
      const client = connectForever(server.url)
      try {
        const lines: string[] = []
        const worker = new ResqueWorker({
          redis: client,
          redisUrl: server.url,
          keys: new ResqueKeys('resque'),
          group: 'early',
          jobs: new Map(),
          say: (line) => lines.push(line),
          notify: () => undefined,
        })
        expect(client.status).not.toBe('ready')
        const exit = worker.run()
        if (stop === 'stopGracefully') worker.stopGracefully('QUIT')
        else void worker.stopNow('TERM')
        expect(await exit).toBe(0)
        // Anything still on its way to Redis from this worker lands before this answer.
        await client.ping()
        expect(await redis.smembers('resque:workers')).toEqual([])
        expect(await redis.keys('resque:worker:*')).toEqual([])
        expect(await redis.hkeys('resque:workers:heartbeat')).toEqual([])
        expect(lines.filter((line) => line.endsWith(': exiting'))).toHaveLength(1)
      } finally {
        client.disconnect()
      }
    })
  }

  it('leaves no registration behind when QUIT comes at any moment of its start (real processes)', async () => {
    const children: number[] = []
    try {
      // QUIT sent 0..95 ms after spawn covers loading, connecting, heartbeat and registering.
      const exits = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const child = spawn(process.execPath, [WORKER_ENTRY], {
            env: {
              ...process.env,
              QUEUE: `boot${i}`,
              RPD_JOBS: fixture('jobs.mjs'),
              REDIS_URL: server.url,
              INTERVAL: '0.1',
            },
            stdio: 'ignore',
          })
          children.push(child.pid!)
          setTimeout(() => child.kill('SIGQUIT'), i * 5)
          return new Promise<string>((resolve) =>
            child.on('exit', (code, signal) => resolve(signal ?? `status ${code}`)),
          )
        }),
      )
      // A QUIT that comes before Node has installed the worker's handler ends it the default way.
      for (const exit of exits) expect(['status 0', 'SIGQUIT']).toContain(exit)
      await waitFor(
        async () => (await redis.smembers('resque:workers')).length === 0,
        'no worker to stay registered',
        5000,
      ).catch(async () => {
        throw new Error(`still registered: ${(await redis.smembers('resque:workers')).join(' ')}`)
      })
      expect(await redis.hkeys('resque:workers:heartbeat')).toEqual([])
    } finally {
      for (const pid of children) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }
  })
})
