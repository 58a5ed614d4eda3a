import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
// The built package, as a user imports it (npm test builds first).
import { Pool, RpdError, parseFormation, parseLogLine } from '../dist/index.js'
import { alive, cleanupStates, fixture, newStateDir, rpd, waitFor } from './helpers/cli.js'
import { usePrivateRedis, type RedisServer } from './helpers/redis.js'
import type { Redis } from 'ioredis'

const IDLE = `bash ${fixture('idle-worker.sh')}`
afterEach(cleanupStates)

let redis: RedisServer
let client: Redis
usePrivateRedis((server, c) => {
  redis = server
  client = c
})

async function rejection(promise: Promise<unknown>): Promise<RpdError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(RpdError)
    return error as RpdError
  }
  throw new Error('expected the call to fail')
}

const pidsOf = (workers: { queues: string; pid: number; state: string }[], group: string) =>
  workers
    .filter((w) => w.queues === group && w.state !== 'stopping')
    .map((w) => w.pid)
    .sort((a, b) => a - b)

describe('Pool, driven from code', () => {
  it('starts, scales, reads status and logs, and stops a real pool; never prints', async () => {
    const dir = newStateDir()
    const lines: string[] = []
    const write = process.stdout.write
    let printed = ''
    process.stdout.write = ((chunk: string) => {
      printed += chunk
      return true
    }) as typeof process.stdout.write
    let pool: Pool
    try {
      pool = new Pool({ stateDir: dir, onLine: (line) => lines.push(line) })
      expect(fs.existsSync(dir)).toBe(false) // no I/O in the constructor
      const started = await pool.start({ formation: { foo: 2, '*': 1 }, command: IDLE })
      expect(started.formation).toEqual({ foo: 2, '*': 1 })
      expect(lines.some((line) => /started manager/.test(line))).toBe(true)
    } finally {
      process.stdout.write = write
    }
    expect(printed).toBe('')

    const s = await pool.status()
    expect(s.running).toBe(true)
    expect(s.workers).toHaveLength(3)
    // Exactly what `rpd status --json` prints (but for the uptime, which ticks).
    const cli = JSON.parse((await rpd(['status', '--json', '--state-dir', dir])).stdout)
    expect({ ...cli, uptimeSeconds: 0 }).toEqual({ ...(await pool.status()), uptimeSeconds: 0 })

    const foo = pidsOf(s.workers, 'foo')
    const scaled = await pool.scale({ foo: '+1', bar: 1 })
    expect(scaled.outcome).toBe('applied')
    expect(scaled.formation).toEqual({ foo: 3, '*': 1, bar: 1 })
    const after = await pool.status()
    expect(pidsOf(after.workers, 'foo')).toEqual(expect.arrayContaining(foo))
    expect(pidsOf(after.workers, 'foo')).toHaveLength(3)
    expect(pidsOf(after.workers, 'bar')).toHaveLength(1)

    await pool.scale('foo=1 bar=0')
    expect(pidsOf((await pool.status()).workers, 'bar')).toHaveLength(0)

    const tail = []
    for await (const line of pool.logs({ lines: 5 })) tail.push(line)
    expect(tail).toHaveLength(5)
    for (const line of tail) {
      expect(line.time).toBeInstanceOf(Date)
      expect(Number.isNaN(line.time.getTime())).toBe(false)
      expect(typeof line.pid).toBe('number')
      expect(typeof line.text).toBe('string')
    }
    expect(tail.some((line) => line.source === 'master')).toBe(true)

    const config = await pool.config()
    expect(config.formation).toEqual({ foo: 1, '*': 1 })
    expect(config.command).toBe(IDLE)
    expect(config).not.toHaveProperty('restartEpochs')

    const master = s.pid!
    expect(await pool.stop({ timeout: 20 })).toBe('stopped')
    expect(alive(master)).toBe(false)
    expect((await pool.status()).running).toBe(false)
    // Not running: a scale is saved for the next start.
    expect((await pool.scale({ foo: 2 })).outcome).toBe('saved')
  })

  it('fails with RpdError codes and exit codes, changing nothing', async () => {
    const dir = newStateDir()
    const pool = new Pool({ stateDir: dir })
    const notRunning = await rejection(pool.kill('USR2'))
    expect([notRunning.code, notRunning.exitCode]).toEqual(['NOT_RUNNING', 3])
    expect((await rejection(pool.restart())).code).toBe('NOT_RUNNING')
    expect((await rejection(pool.pause())).code).toBe('NOT_RUNNING')
    expect((await rejection(pool.config())).code).toBe('NO_POOL')
    const badStart = await rejection(pool.start({ formation: 'foo=abc', command: IDLE }))
    expect([badStart.code, badStart.exitCode]).toEqual(['BAD_SPEC', 2])
    expect(fs.existsSync(path.join(dir, 'pool.yml'))).toBe(false)

    await pool.start({ formation: 'foo=1', command: IDLE })
    const twice = await rejection(pool.start({ formation: 'foo=1', command: IDLE }))
    expect([twice.code, twice.exitCode]).toEqual(['ALREADY_RUNNING', 1])
    const badScale = await rejection(pool.scale('foo=abc'))
    expect([badScale.code, badScale.exitCode]).toEqual(['BAD_SPEC', 2])
    expect((await rejection(pool.kill('NOPE'))).exitCode).toBe(2)
    expect((await rejection(pool.restart(['nope']))).exitCode).toBe(2)
    expect((await pool.config()).formation).toEqual({ foo: 1 })
    expect(() => parseFormation('foo=2:*=1')).not.toThrow()
    expect(parseFormation('foo=2:*=1')).toEqual({ foo: 2, '*': 1 })
    await pool.stop({ timeout: 20 })
  })

  it('follows the log until a line matches, and watch() yields a snapshot on every change', async () => {
    const dir = newStateDir()
    const pool = new Pool({ stateDir: dir })
    await pool.start({ formation: { foo: 1 }, command: IDLE })
    const abort = new AbortController()
    const snapshots: number[] = []
    const watching = (async () => {
      for await (const snapshot of pool.watch({ signal: abort.signal }))
        snapshots.push(snapshot.workers.filter((w) => w.state === 'running').length)
    })()
    await waitFor(() => snapshots.length > 0, 'a first snapshot')
    const following = (async () => {
      const seen = []
      for await (const line of pool.logs({ lines: 0, until: /Reaped worker/, timeout: 30 })) seen.push(line)
      return seen
    })()
    await pool.scale({ foo: 3 })
    await waitFor(() => snapshots.includes(3), 'a snapshot with 3 running workers')
    await pool.scale({ foo: 1 })
    const seen = await following
    expect(seen[seen.length - 1].text).toMatch(/Reaped worker/)
    abort.abort()
    await watching
    expect(snapshots[0]).toBe(1)

    // follow ends when the caller aborts it.
    const stopFollowing = new AbortController()
    const followed = (async () => {
      let count = 0
      for await (const line of pool.logs({ lines: 1, follow: true, signal: stopFollowing.signal }))
        count += line ? 1 : 0
      return count
    })()
    setTimeout(() => stopFollowing.abort(), 200)
    expect(await followed).toBeGreaterThanOrEqual(1)

    const unmatched = await rejection(
      (async () => {
        for await (const line of pool.logs({ lines: 0, until: 'never-printed-xyz', timeout: 0.3 })) void line
      })(),
    )
    expect(unmatched.code).toBe('TIMEOUT')
    await pool.stop({ timeout: 20 })
  })

  it('enqueues jobs on the pool’s Redis and pauses and resumes built-in workers', async () => {
    const dir = newStateDir()
    const pool = new Pool({ stateDir: dir })
    await pool.start({ formation: { slow: 1 }, jobs: fixture('jobs.mjs'), redis: redis.url })
    const result = await pool.enqueue('other', 'Echo', ['ünïcode', { a: [1, 2] }, 12.5], { count: 3 })
    // Where the jobs went too, so `rpd enqueue` prints it from this same result.
    expect(result).toEqual({ pushed: 3, length: 3, url: redis.url, namespace: 'resque' })
    const job = JSON.parse((await client.lindex('resque:queue:other', 0))!)
    expect(job).toEqual({ class: 'Echo', args: ['ünïcode', { a: [1, 2] }, 12.5] })
    await pool.pause()
    await waitFor(async () => (await pool.status()).workers.every((w) => w.paused), 'every worker paused')
    await pool.resume()
    await waitFor(async () => (await pool.status()).workers.every((w) => !w.paused), 'every worker resumed')
    await pool.stop({ timeout: 20 })
  })

  it('parses log lines, and keeps a line not in rpd’s format whole', () => {
    const line = parseLogLine('2026-11-27T23:02:28.123Z foo,bar[21138]: Starting worker host:1: a: b')
    expect(line).toEqual({
      time: new Date('2026-11-27T23:02:28.123Z'),
      source: 'foo,bar',
      pid: 21138,
      text: 'Starting worker host:1: a: b',
    })
    expect(parseLogLine('node: something broke').text).toBe('node: something broke')
  })
})
