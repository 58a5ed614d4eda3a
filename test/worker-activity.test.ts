import fs from 'node:fs'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { readWorkerActivity } from '../src/client/worker-activity.js'
import { forkedChildFromTitle, jobFromTitle } from '../src/resque/process-title.js'
import type { WorkerStatus } from '../src/state/status-file.js'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor } from './helpers/cli.js'
import { type RedisServer, usePrivateRedis } from './helpers/redis.js'

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

const worker = (extra: Partial<WorkerStatus> = {}): WorkerStatus => ({
  slot: 1,
  pid: 100,
  startTime: '1',
  queues: 'foo',
  state: 'running',
  startedAt: '2026-01-01T00:00:00.000Z',
  restarts: 0,
  epoch: 0,
  lastExit: null,
  ...extra,
})

describe('jobFromTitle', () => {
  it.each([
    [
      'resque-2.7.0: Processing foo since 1700000000 [SlowJob]',
      { queue: 'foo', class: 'SlowJob', since: '2023-11-14T22:13:20.000Z' },
    ],
    [
      'app: resque-1.27.4: Processing a,b since 1700000000 [X::Y]',
      { queue: 'a,b', class: 'X::Y', since: '2023-11-14T22:13:20.000Z' },
    ],
    ['resque-2.7.0: Waiting for foo', null],
    ['resque-2.7.0: Paused', null],
    ['resque: Starting', null],
    ['resque-2.7.0: Forked 42 at 1700000000', undefined],
    ['bash -c sleep 100', undefined],
    ['', undefined],
  ])('%s', (title, job) => expect(jobFromTitle(title)).toEqual(job))

  it('finds the child a forking Ruby worker names', () => {
    expect(forkedChildFromTitle('resque-2.7.0: Forked 4242 at 1700000000')).toBe(4242)
    expect(forkedChildFromTitle('resque-2.7.0: Waiting for foo')).toBeUndefined()
  })
})

describe('readWorkerActivity', () => {
  const titles = (map: Record<number, string>) => (pid: number) => map[pid] ?? ''
  it('lets a Resque title overrule a late IPC report either way', () => {
    const busy = readWorkerActivity(
      worker({ job: null }),
      titles({ 100: 'resque-2.7.0: Processing foo since 1700000000 [A]' }),
    )
    expect(busy.job).toEqual({ queue: 'foo', class: 'A', since: '2023-11-14T22:13:20.000Z' })
    const idle = readWorkerActivity(
      worker({ job: { queue: 'foo', class: 'A', since: 'x' } }),
      titles({ 100: 'resque-2.7.0: Waiting for foo' }),
    )
    expect(idle.job).toBeNull()
  })
  it('reads the job of a forked child, and keeps no job for a title that is not Resque', () => {
    const forked = readWorkerActivity(
      worker(),
      titles({
        100: 'resque-2.7.0: Forked 101 at 1700000000',
        101: 'resque-2.7.0: Processing foo since 1700000000 [B]',
      }),
    )
    expect(forked).toEqual({
      title: 'resque-2.7.0: Forked 101 at 1700000000',
      job: { queue: 'foo', class: 'B', since: '2023-11-14T22:13:20.000Z' },
    })
    expect(readWorkerActivity(worker(), titles({ 100: 'sleep 100' }))).toEqual({ title: 'sleep 100' })
  })
})

describe('status of Ruby-titled command workers', () => {
  it('shows each title, its job and busy/idle, and counts them in the Resque section', async () => {
    const dir = newStateDir()
    const flags = path.join(path.dirname(dir), 'flags')
    fs.mkdirSync(flags)
    const command = `BUSY_DIR=${flags} node ${fixture('titled-worker.mjs')} ${'.'.repeat(100)}`
    await redis.sadd('resque:queues', 'foo')
    await redis.lpush('resque:queue:foo', '{"class":"SlowJob","args":[]}')
    const started = await rpd(['start', 'foo=2', '--command', command, '--state-dir', dir], {
      env: { REDIS_URL: server.url, WORKERS: '' },
    })
    expect(started.exitCode).toBe(0)
    const [one] = (await status(dir)).workers
    fs.writeFileSync(path.join(flags, `busy-${one.pid}`), '')
    const s = await waitFor(async () => {
      const now = await status(dir)
      return now.workers.find((w) => w.pid === one.pid)?.job ? now : undefined
    }, 'the busy title')
    const busy = s.workers.find((w) => w.pid === one.pid)!
    const idle = s.workers.find((w) => w.pid !== one.pid)!
    expect(busy.title).toMatch(/^resque-2\.7\.0: Processing foo since \d+ \[SlowJob\]$/)
    expect(busy.job).toMatchObject({ queue: 'foo', class: 'SlowJob' })
    expect(idle.title).toBe('resque-2.7.0: Waiting for foo')
    expect(idle.job).toBeNull()
    const human = await rpd(['status', '--state-dir', dir])
    expect(human.stdout).toContain('busy: SlowJob on foo since')
    expect(human.stdout).toMatch(/Waiting for foo +\(foo, running, idle\)/)
    expect(human.stdout).toContain('workers: 1 busy, 1 idle')
    expect(human.stdout).toContain('queues: foo: 1')
  })
})
