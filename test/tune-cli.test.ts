import fs from 'node:fs'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, rpdSpawn, status, waitFor } from './helpers/cli.js'
import { freePort, type RedisServer, usePrivateRedis } from './helpers/redis.js'

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

// Workers poll every 0.1 s, so an idle worker picks up the backlog at once; no REDIS_URL from outside.
const ENV = { INTERVAL: '0.1', REDIS_URL: '' }
const JOBS = fixture('jobs-tune.mjs')
// 100 ms of sleep per job: throughput grows with every worker, and the CPU stays out of it.
const SLEEP_JOB = JSON.stringify({ class: 'Sleep', args: [100] })

async function startPool(dir: string, spec: string): Promise<void> {
  const result = await rpd(['start', spec, '--jobs', JOBS, '--redis', server.url, '--state-dir', dir], {
    env: ENV,
  })
  expect(result.exitCode, result.stderr).toBe(0)
}

async function fillQueue(count: number): Promise<void> {
  await redis
    .pipeline()
    .sadd('resque:queues', 'images')
    .rpush('resque:queue:images', ...Array<string>(count).fill(SLEEP_JOB))
    .exec()
}

function tune(dir: string, args: string[]) {
  return rpd(['tune', 'images', ...args, '--state-dir', dir], { env: ENV })
}

const running = async (dir: string) =>
  (await status(dir)).workers.filter((w) => w.queues === 'images' && w.state === 'running').length

const savedConfig = (dir: string) => fs.readFileSync(path.join(dir, 'pool.yml'), 'utf8')

describe('rpd tune', () => {
  it('climbs a sleep-bound workload to --max, prints the JSON, draws the SVG and saves the count', async () => {
    const dir = newStateDir()
    await startPool(dir, 'images=2')
    await fillQueue(3000)
    const plot = path.join(path.dirname(dir), 'tune.svg')
    const result = await tune(dir, [
      '--min',
      '1',
      '--max',
      '3',
      '--window',
      '2s',
      '--json',
      '--plot',
      plot,
      '--save',
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as {
      best: number
      probes: Record<string, unknown>[]
      model: Record<string, unknown> | null
      stoppedBy: string
    }
    expect(report.best).toBe(3)
    expect(report.stoppedBy).toBe('bounds')
    expect(report.probes.map((p) => p.workers)).toEqual([1, 2, 3])
    for (const probe of report.probes) {
      expect(Object.keys(probe)).toEqual(
        expect.arrayContaining(['workers', 'jobsPerSecond', 'load', 'memAvailable', 'seconds']),
      )
      expect(probe.seconds).toBe(2)
      expect(probe.load).toBeGreaterThan(0)
      expect(probe.memAvailable).toBeGreaterThan(0)
    }
    const rates = report.probes.map((p) => p.jobsPerSecond as number)
    expect(rates[1]).toBeGreaterThan(rates[0] * 1.3)
    expect(rates[2]).toBeGreaterThan(rates[1] * 1.2)
    expect(Object.keys(report.model ?? {}).sort()).toEqual(['alpha', 'beta', 'peak', 'r2'])
    expect(fs.readFileSync(plot, 'utf8')).toContain('best: 3 workers')
    expect((await status(dir)).formation).toEqual({ images: 3 })
    expect(await running(dir)).toBe(3)
    expect(savedConfig(dir)).toMatch(/^ {2}images: 3$/m)
  })

  it('a guard below the current load stops at the first probe, says which, and leaves the group at --min', async () => {
    const dir = newStateDir()
    await startPool(dir, 'images=2')
    await fillQueue(2000)
    const result = await tune(dir, ['--min', '1', '--max', '4', '--window', '2s', '--max-load', '0.0001'])
    expect(result.exitCode, result.stderr).toBe(0)
    const lines = result.stdout.split('\n')
    expect(lines.filter((line) => line.startsWith('probe '))).toHaveLength(1)
    expect(result.stdout).toMatch(
      /^probe 1: 1 worker, .* over max-load \(load [\d.]+ per core .*> 0\.0001\)$/m,
    )
    expect(result.stdout).toMatch(/stopped: the max-load guard tripped/)
    expect(result.stdout).toMatch(/over max-load/)
    expect((await status(dir)).formation).toEqual({ images: 1 })
    expect(savedConfig(dir)).toMatch(/^ {2}images: 1$/m)
    expect(result.stdout).toContain(
      'images left at 1 worker (pool.yml holds images=1; to go back: rpd scale images=2)',
    )
  })

  it('an automatic group is measured at fixed counts and gets its bounds back; --save keeps the count', async () => {
    const dir = newStateDir()
    await startPool(dir, 'images=2..4')
    await fillQueue(2000)
    const guard = ['--min', '1', '--max', '4', '--window', '2s', '--max-load', '0.0001']
    const back = await tune(dir, guard)
    expect(back.exitCode, back.stderr).toBe(0)
    expect(back.stdout).toContain('images is automatic again (images=2..4); --save makes it images=1')
    expect(savedConfig(dir)).toMatch(/^ {2}images: 2\.\.4$/m)
    const saved = await tune(dir, [...guard, '--save', '--json'])
    expect(saved.exitCode, saved.stderr).toBe(0)
    expect(JSON.parse(saved.stdout)).toMatchObject({
      best: 1,
      stoppedBy: 'guard',
      guard: 'max-load',
      kept: '1',
    })
    expect(savedConfig(dir)).toMatch(/^ {2}images: 1$/m)
    expect((await status(dir)).formation).toEqual({ images: 1 })
  })

  it('^C stops the search and restores the count it started from', async () => {
    const dir = newStateDir()
    await startPool(dir, 'images=2')
    await fillQueue(2000)
    const child = rpdSpawn(
      ['tune', 'images', '--min', '1', '--max', '8', '--window', '10s', '--state-dir', dir],
      {
        env: ENV,
      },
    )
    await waitFor(async () => (await status(dir)).formation.images === 1, 'the first probe at 1 worker')
    // Not child.kill: execa would follow it with SIGKILL after 5 s, while the restore may take longer.
    process.kill(child.pid!, 'SIGINT')
    const result = await child
    expect(result.exitCode, String(result.stderr)).toBe(130)
    expect(String(result.stdout)).toContain('interrupted: images restored to 2')
    expect((await status(dir)).formation).toEqual({ images: 2 })
    expect(await running(dir)).toBe(2)
    expect(savedConfig(dir)).toMatch(/^ {2}images: 2$/m)
  })

  describe('errors, one line each', () => {
    const oneLine = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1)

    it('bounds that make no sense: exit 2', async () => {
      const dir = newStateDir()
      for (const args of [
        ['--min', '4', '--max', '2'],
        ['--min', '0', '--max', '2'],
        ['--min', '1', '--max', '2000'],
        ['--min', '1', '--max', '2', '--tolerance', '120%'],
        ['--min', '1', '--max', '2', '--window', '0s'],
      ]) {
        const result = await tune(dir, args)
        expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(2)
        oneLine(result.stderr)
      }
    })

    it('no pool running, or no such group: exit 3', async () => {
      const dir = newStateDir()
      const none = await tune(dir, ['--min', '1', '--max', '2'])
      expect(none.exitCode).toBe(3)
      expect(none.stderr).toMatch(/^rpd: no pool is running in .*: start one with rpd start$/)
      await startPool(dir, 'mail=1')
      const missing = await tune(dir, ['--min', '1', '--max', '2'])
      expect(missing.exitCode).toBe(3)
      expect(missing.stderr).toMatch(/no group "images" in the running pool \(mail=1\)/)
      oneLine(missing.stderr)
    })

    it('an empty queue: exit 2; no Redis: exit 3', async () => {
      const dir = newStateDir()
      await startPool(dir, 'images=1')
      const empty = await tune(dir, ['--min', '1', '--max', '2'])
      expect(empty.exitCode).toBe(2)
      expect(empty.stderr).toMatch(/the queues of images hold no jobs/)
      oneLine(empty.stderr)
      const dead = `redis://127.0.0.1:${await freePort()}`
      const unreachable = await tune(dir, ['--min', '1', '--max', '2', '--redis', dead])
      expect(unreachable.exitCode).toBe(3)
      expect(unreachable.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/)
      oneLine(unreachable.stderr)
      expect((await status(dir)).formation).toEqual({ images: 1 })
    })
  })
})
