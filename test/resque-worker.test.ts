import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import {
  alive,
  cleanupStates,
  fixture,
  newStateDir,
  rpd,
  status,
  waitFor,
  type StatusJson,
} from './helpers/cli.js'
import { type RedisServer, startRedis, usePrivateRedis } from './helpers/redis.js'

const JOBS = fixture('jobs.mjs')
const HOST = os.hostname()
// Ruby Resque's formats, as they appear in Redis.
const RUBY_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/
const RUBY_ISO8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/
const RUBY_UTC_ISO8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/
const FAILED_AT = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d UTC$/
const FAILURE_FIELDS = ['failed_at', 'payload', 'exception', 'error', 'backtrace', 'worker', 'queue']

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

const workerId = (pid: number, group: string) => `${HOST}:${pid}:${group}`
const title = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]
const logOf = (dir: string) => fs.readFileSync(path.join(dir, 'master.log'), 'utf8')

async function startBuiltin(
  dir: string,
  specs: string[],
  url = server.url,
  interval = '0.1',
): Promise<StatusJson> {
  const result = await rpd(['start', ...specs, '--jobs', JOBS, '--redis', url, '--state-dir', dir], {
    env: { INTERVAL: interval, REDIS_URL: '' },
  })
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
  return status(dir)
}

async function enqueue(queue: string, className: string, ...args: string[]): Promise<void> {
  const result = await rpd(['enqueue', queue, className, ...args, '--redis', server.url])
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
}

// Tags of finished jobs, in the order they finished.
async function done(client: Redis = redis): Promise<string[]> {
  return (await client.lrange('test:done', 0, -1)).map((entry) => (JSON.parse(entry) as { tag: string }).tag)
}

// Waits until a Hold job has started; returns the pid of the worker running it.
async function heldBy(tag: string, client: Redis = redis): Promise<number> {
  const entry = await waitFor(async () => {
    const started = await client.lrange('test:started', 0, -1)
    return started.map((e) => JSON.parse(e) as { tag: string; pid: number }).find((e) => e.tag === tag)
  }, `job ${tag} to start`)
  return entry.pid
}

async function failures(client: Redis = redis): Promise<Record<string, unknown>[]> {
  return (await client.lrange('resque:failed', 0, -1)).map(
    (entry) => JSON.parse(entry) as Record<string, unknown>,
  )
}

describe('the built-in Resque worker', () => {
  it('runs jobs from rpd enqueue and from a raw RPUSH, as functions and as objects', async () => {
    const dir = newStateDir()
    await startBuiltin(dir, ['foo=1'])
    await enqueue('foo', 'Record', 'a')
    // What Ruby's Resque.enqueue writes.
    await redis.sadd('resque:queues', 'foo')
    await redis.rpush('resque:queue:foo', JSON.stringify({ class: 'Echo', args: [1, { x: 2 }, 'y'] }))
    // A job is counted as processed once perform has returned: wait for the count, not for the job's own mark.
    await waitFor(async () => (await redis.get('resque:stat:processed')) === '2', 'both jobs to run')
    expect(await done()).toEqual(['a', 'echo:[1,{"x":2},"y"]'])
    expect(await redis.llen('resque:failed')).toBe(0)
  })

  it('drains synchronous, failing and asynchronous jobs back to back, in order, each counted once', async () => {
    const dir = newStateDir()
    await startBuiltin(dir, ['foo,bar=1'])
    expect((await rpd(['pause', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(
      async () => ((await status(dir)).workers[0] as { paused?: boolean }).paused === true,
      'paused',
    )
    // Runs of jobs that return at once, broken by ones that throw and ones that return a promise.
    const job = (i: number) =>
      i % 7 === 3
        ? { class: 'Fail', args: [`boom é ${i}`] }
        : i % 5 === 0
          ? { class: 'Record', args: [`f${i}`] }
          : { class: 'Mark', args: [`f${i}`] }
    const foo = Array.from({ length: 60 }, (_, i) => job(i))
    await redis.sadd('resque:queues', 'foo', 'bar')
    await redis.rpush(
      'resque:queue:bar',
      ...[0, 1, 2].map((i) => JSON.stringify({ class: 'Mark', args: [`b${i}`] })),
    )
    await redis.rpush('resque:queue:foo', ...foo.map((j) => JSON.stringify(j)))
    expect((await rpd(['resume', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(
      async () => (await redis.get('resque:stat:processed')) === '63',
      'all 63 jobs to be counted',
    )
    const ran = foo.flatMap((j) => (j.class === 'Fail' ? [] : [j.args[0]]))
    // foo before bar, as Resque's priority order says, every job in its queue's order.
    await waitFor(async () => (await done()).length === ran.length + 3, 'every mark to land')
    expect(await done()).toEqual([...ran, 'b0', 'b1', 'b2'])
    const failed = await failures()
    expect(failed.map((f) => f.error)).toEqual(foo.flatMap((j) => (j.class === 'Fail' ? [j.args[0]] : [])))
    expect(await redis.get('resque:stat:failed')).toBe(String(failed.length))
    const [{ pid }] = (await status(dir)).workers
    expect(await redis.get(`resque:stat:processed:${workerId(pid, 'foo,bar')}`)).toBe('63')
    await waitFor(async () => (await redis.exists(`resque:worker:${workerId(pid, 'foo,bar')}`)) === 0, 'idle')
  })

  it('registers, works and unregisters with exactly the keys and values Ruby Resque writes', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'])
    const pid = s.workers[0].pid
    const id = workerId(pid, 'foo')

    // Idle.
    expect(await redis.smembers('resque:workers')).toEqual([id])
    expect(await redis.get(`resque:worker:${id}:started`)).toMatch(RUBY_TIME)
    const heartbeats = await redis.hgetall('resque:workers:heartbeat')
    expect(Object.keys(heartbeats)).toEqual([id])
    expect(heartbeats[id]).toMatch(RUBY_ISO8601)
    expect(await redis.exists(`resque:worker:${id}`)).toBe(0)
    await waitFor(() => title(pid) === 'resque-2.7.0: Waiting for foo', 'the waiting title')
    expect((await status(dir)).workers[0].job).toBeNull()

    // Busy.
    await enqueue('foo', 'Hold', 'h1')
    expect(await heldBy('h1')).toBe(pid)
    const working = JSON.parse((await redis.get(`resque:worker:${id}`))!) as Record<string, unknown>
    expect(Object.keys(working)).toEqual(['queue', 'run_at', 'payload'])
    expect(working.queue).toBe('foo')
    expect(working.run_at).toMatch(RUBY_UTC_ISO8601)
    expect(working.payload).toEqual({ class: 'Hold', args: ['h1'] })
    expect(title(pid)).toMatch(/^resque-2\.7\.0: Processing foo since \d+ \[Hold\]$/)
    const busy = await waitFor(
      async () => (await status(dir)).workers[0].job as Record<string, string> | null,
      'status to show the job',
    )
    expect(busy).toEqual({ class: 'Hold', queue: 'foo', since: expect.stringMatching(/Z$/) })
    expect(await redis.smembers('resque:workers')).toEqual([id])

    // Done.
    await redis.set('test:release:h1', '1')
    await waitFor(async () => (await redis.exists(`resque:worker:${id}`)) === 0, 'the job to finish')
    expect(await redis.get('resque:stat:processed')).toBe('1')
    expect(await redis.get(`resque:stat:processed:${id}`)).toBe('1')

    // After exit: nothing of the worker is left, only the queue list, the global counter and Resque's
    // pruning lock (taken at startup, it expires by itself).
    const stopped = await rpd(['stop', '--state-dir', dir])
    expect(stopped.exitCode).toBe(0)
    expect(alive(pid)).toBe(false)
    expect((await redis.keys('resque:*')).sort()).toEqual([
      'resque:pruning_dead_workers_in_progress',
      'resque:queues',
      'resque:stat:processed',
    ])
    expect(await redis.ttl('resque:pruning_dead_workers_in_progress')).toBeGreaterThan(0)
    expect(await redis.smembers('resque:queues')).toEqual(['foo'])
  })

  it('looks alive to Ruby Resque dead-worker pruning: resque-N title in ps and a fresh heartbeat', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1', 'bar,foo=1'])
    for (const worker of s.workers) {
      // Ruby's linux_worker_pids: `ps -A -o pid,command` lines matching these patterns are live workers.
      const ps = execFileSync('ps', ['-A', '-o', 'pid,command'], { encoding: 'utf8' })
      const live = ps
        .split('\n')
        .filter(
          (line) => /resque:work|resque:\sStarting|resque-[0-9]/.test(line) && !line.includes('resque-web'),
        )
        .map((line) => Number(line.trim().split(' ')[0]))
      expect(live).toContain(worker.pid)
      const id = workerId(worker.pid, worker.queues)
      const [serverSeconds] = await redis.time()
      const heartbeat = await redis.hget('resque:workers:heartbeat', id)
      // Ruby prunes a worker whose heartbeat is more than 300 s behind the Redis clock.
      expect(Number(serverSeconds) - Date.parse(heartbeat!) / 1000).toBeLessThan(300)
    }
    expect((await redis.smembers('resque:workers')).sort()).toEqual(
      s.workers.map((w) => workerId(w.pid, w.queues)).sort(),
    )
  })

  it('prunes at startup, as Ruby Resque does, registrations that dead workers left behind', async () => {
    const deadPid = spawnSync('true').pid
    const [now] = await redis.time()
    const iso = (secondsAgo: number) =>
      new Date((Number(now) - secondsAgo) * 1000).toISOString().replace(/\.\d+Z$/, '+00:00')
    const ghost = workerId(deadPid, 'foo')
    const silent = 'elsewhere:4242:bar'
    const elsewhere = 'elsewhere:4343:foo'
    const otherQueues = workerId(deadPid, 'baz')
    await redis.sadd('resque:workers', ghost, silent, elsewhere, otherQueues)
    const working = {
      queue: 'foo',
      run_at: '2026-11-27T23:22:23Z',
      payload: { class: 'Record', args: ['lost'] },
    }
    await redis.set(`resque:worker:${ghost}`, JSON.stringify(working))
    await redis.hset(
      'resque:workers:heartbeat',
      ghost,
      iso(10),
      silent,
      iso(600),
      elsewhere,
      iso(10),
      otherQueues,
      iso(10),
    )
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'])
    const id = workerId(s.workers[0].pid, 'foo')
    // Kept: a worker elsewhere with a fresh heartbeat, and one of this host for other queues (another program's).
    await waitFor(
      async () =>
        (await redis.smembers('resque:workers')).sort().join(' ') ===
        [elsewhere, id, otherQueues].sort().join(' '),
      'the dead registrations to be pruned',
    )
    await waitFor(async () => (await redis.llen('resque:failed')) === 1, "the dead worker's job to be failed")
    expect((await failures())[0]).toMatchObject({
      payload: working.payload,
      exception: 'Resque::DirtyExit',
      error: 'Job still being processed',
      worker: ghost,
      queue: 'foo',
    })
    expect(Object.keys(await redis.hgetall('resque:workers:heartbeat')).sort()).toEqual(
      [elsewhere, id, otherQueues].sort(),
    )
    expect(logOf(dir)).toContain(`Pruning dead worker: ${ghost}`)
  })

  it('records a failing job in resque:failed with every Ruby field, and an unknown class as NameError', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'])
    const id = workerId(s.workers[0].pid, 'foo')
    await enqueue('foo', 'Fail', 'boom')
    await enqueue('foo', 'NoSuchJob', '7')
    await waitFor(async () => (await redis.llen('resque:failed')) === 2, 'two failures')
    const [failed, unknown] = await failures()
    expect(Object.keys(failed)).toEqual(FAILURE_FIELDS)
    expect(failed.failed_at).toMatch(FAILED_AT)
    expect(failed.payload).toEqual({ class: 'Fail', args: ['boom'] })
    expect(failed.exception).toBe('Error')
    expect(failed.error).toBe('boom')
    expect((failed.backtrace as string[])[0]).toContain('jobs.mjs')
    expect(failed.worker).toBe(id)
    expect(failed.queue).toBe('foo')
    expect(Object.keys(unknown)).toEqual(FAILURE_FIELDS)
    expect(unknown).toMatchObject({
      payload: { class: 'NoSuchJob', args: [7] },
      exception: 'NameError',
      error: 'uninitialized constant NoSuchJob',
      backtrace: [],
      worker: id,
      queue: 'foo',
    })
    await waitFor(async () => (await redis.get('resque:stat:processed')) === '2', 'both counted as processed')
    expect(await redis.get('resque:stat:failed')).toBe('2')
    expect(await redis.get(`resque:stat:failed:${id}`)).toBe('2')
  })

  it('QUIT during a job lets the job finish, then the worker unregisters and exits', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'])
    const pid = s.workers[0].pid
    const id = workerId(pid, 'foo')
    await enqueue('foo', 'Hold', 'q1')
    await heldBy('q1')
    process.kill(pid, 'SIGQUIT')
    await waitFor(
      () => logOf(dir).includes(`foo[${pid}]: QUIT: finishing Hold, then exiting`),
      'the worker to take QUIT',
    )
    expect(alive(pid)).toBe(true)
    expect(await redis.exists(`resque:worker:${id}`)).toBe(1)
    await redis.set('test:release:q1', '1')
    await waitFor(() => !alive(pid), 'the worker to exit after its job')
    expect(await done()).toEqual(['q1'])
    expect(await redis.llen('resque:failed')).toBe(0)
    expect(await redis.sismember('resque:workers', id)).toBe(0)
    expect(await redis.exists(`resque:worker:${id}:started`)).toBe(0)
  })

  it('TERM during a job stops at once and records the job as failed, as Resque::TermException', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'])
    const pid = s.workers[0].pid
    const id = workerId(pid, 'foo')
    await enqueue('foo', 'Hold', 't1')
    await heldBy('t1')
    process.kill(pid, 'SIGTERM')
    await waitFor(() => !alive(pid), 'the worker to exit')
    const [failed] = await failures()
    expect(await redis.llen('resque:failed')).toBe(1)
    expect(Object.keys(failed)).toEqual(FAILURE_FIELDS)
    expect(failed).toMatchObject({
      payload: { class: 'Hold', args: ['t1'] },
      exception: 'Resque::TermException',
      error: 'SIGTERM',
      worker: id,
      queue: 'foo',
    })
    expect(await redis.sismember('resque:workers', id)).toBe(0)
    expect(await redis.exists(`resque:worker:${id}`)).toBe(0)
    expect(await done()).toEqual([])
  })

  it('SIGKILL of a busy worker leaves no registration and one failed entry', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'])
    const pid = s.workers[0].pid
    const id = workerId(pid, 'foo')
    await enqueue('foo', 'Hold', 'k1')
    await heldBy('k1')
    process.kill(pid, 'SIGKILL')
    // The master respawns the slot; once the new worker is registered, the dead one must be gone.
    const ids = await waitFor(async () => {
      const now = await redis.smembers('resque:workers')
      return now.length === 1 && now[0] !== id ? now : undefined
    }, 'the dead worker to be replaced in resque:workers')
    expect(ids[0]).toMatch(new RegExp(`^${HOST}:\\d+:foo$`))
    await waitFor(async () => (await redis.llen('resque:failed')) === 1, 'the killed job to be failed')
    const [failed] = await failures()
    expect(Object.keys(failed)).toEqual(FAILURE_FIELDS)
    expect(failed).toMatchObject({
      payload: { class: 'Hold', args: ['k1'] },
      exception: 'Resque::DirtyExit',
      error: 'Job still being processed',
      worker: id,
      queue: 'foo',
    })
    for (const key of [`resque:worker:${id}`, `resque:worker:${id}:started`, `resque:stat:processed:${id}`])
      expect(await redis.exists(key)).toBe(0)
    expect(await redis.hexists('resque:workers:heartbeat', id)).toBe(0)
    expect(logOf(dir)).toContain(
      `removed dead worker ${id} from Redis; its job Hold on foo is recorded as failed`,
    )
  })

  it('scale-down stops idle workers and keeps the busy one', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=3'])
    await enqueue('foo', 'Hold', 's1')
    const busy = await heldBy('s1')
    await waitFor(
      async () => (await status(dir)).workers.some((w) => w.job),
      'status to show the busy worker',
    )
    const scaled = await rpd(['scale', 'foo=1', '--state-dir', dir])
    expect(scaled.exitCode).toBe(0)
    const after = await waitFor(async () => {
      const now = await status(dir)
      return now.workers.length === 1 ? now : undefined
    }, 'two workers to stop')
    expect(after.workers[0].pid).toBe(busy)
    for (const worker of s.workers.filter((w) => w.pid !== busy)) expect(alive(worker.pid)).toBe(false)
    expect(await redis.smembers('resque:workers')).toEqual([workerId(busy, 'foo')])
    await redis.set('test:release:s1', '1')
    await waitFor(async () => (await done()).includes('s1'), 'the busy job to finish')
  })

  it('pauses on USR2 and resumes on CONT (rpd pause / resume)', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'])
    const pid = s.workers[0].pid
    expect((await rpd(['pause', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(() => title(pid) === 'resque-2.7.0: Paused', 'the Paused title')
    await waitFor(
      async () => ((await status(dir)).workers[0] as { paused?: boolean }).paused === true,
      'status to show paused',
    )
    await enqueue('foo', 'Record', 'p1')
    // A paused worker leaves its queue alone: the job is still there when it resumes.
    expect(await redis.llen('resque:queue:foo')).toBe(1)
    expect((await rpd(['resume', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(async () => (await done()).includes('p1'), 'the job to run after CONT')
    await waitFor(
      async () => ((await status(dir)).workers[0] as { paused?: boolean }).paused === false,
      'status to show resumed',
    )
  })

  it('works every queue, sorted, when the group is *', async () => {
    await redis.sadd('resque:queues', 'zeta', 'alpha')
    await redis.rpush('resque:queue:zeta', JSON.stringify({ class: 'Record', args: ['z'] }))
    await redis.rpush('resque:queue:alpha', JSON.stringify({ class: 'Record', args: ['a'] }))
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['*=1'])
    const pid = s.workers[0].pid
    await waitFor(async () => (await done()).length === 2, 'both queues to be worked')
    expect(await done()).toEqual(['a', 'z'])
    expect(await redis.smembers('resque:workers')).toEqual([workerId(pid, '*')])
    await waitFor(() => title(pid) === 'resque-2.7.0: Waiting for alpha,zeta', 'the waiting title')
  })

  it('when the master dies, an idle worker exits at once and a busy one after its job', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=2'])
    await enqueue('foo', 'Hold', 'm1')
    const busy = await heldBy('m1')
    const idle = s.workers.map((w) => w.pid).find((pid) => pid !== busy)!
    process.kill(s.pid!, 'SIGKILL')
    await waitFor(() => !alive(idle), 'the idle worker to exit')
    expect(alive(busy)).toBe(true)
    await redis.set('test:release:m1', '1')
    await waitFor(() => !alive(busy), 'the busy worker to exit after its job')
    expect(await done()).toEqual(['m1'])
    expect(await redis.smembers('resque:workers')).toEqual([])
    expect(await redis.llen('resque:failed')).toBe(0)
  })
})

// INTERVAL is a minute here: a job run within the tests' deadlines was picked up by a wake, not by a poll.
describe('an idle built-in worker', () => {
  const job = (className: string, tag: string) => JSON.stringify({ class: className, args: [tag] })

  it('wakes for a raw RPUSH, as Ruby enqueues, and for rpd enqueue, long before its next poll', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=2'], server.url, '60')
    await waitFor(() => title(s.workers[0].pid) === 'resque-2.7.0: Waiting for foo', 'the worker to wait')
    await redis.sadd('resque:queues', 'foo')
    await redis.rpush('resque:queue:foo', job('Record', 'raw'))
    await waitFor(async () => (await done()).includes('raw'), 'the pushed job to run', 10_000)
    await enqueue('foo', 'Record', 'cli')
    await waitFor(async () => (await done()).includes('cli'), 'the enqueued job to run', 10_000)
    // Counted with the worker's next script, just after perform returns (which is after the job's own mark).
    await waitFor(async () => (await redis.get('resque:stat:processed')) === '2', 'both jobs to be counted')
  })

  it('takes foo before bar (foo,bar) when both get jobs at once, and when both already hold some', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo,bar=1'], server.url, '60')
    await waitFor(() => title(s.workers[0].pid) === 'resque-2.7.0: Waiting for foo,bar', 'the worker to wait')
    // Both queues written in one transaction, bar first: the wake comes from bar, the job taken is foo's.
    await redis
      .multi()
      .rpush('resque:queue:bar', job('Record', 'b1'))
      .rpush('resque:queue:foo', job('Record', 'f1'))
      .exec()
    await waitFor(async () => (await done()).length === 2, 'both jobs to run', 10_000)
    expect(await done()).toEqual(['f1', 'b1'])
    // Busy with a held job while both queues fill, bar first.
    await redis.rpush('resque:queue:foo', job('Hold', 'h'))
    await heldBy('h')
    await redis.rpush('resque:queue:bar', job('Record', 'b2'), job('Record', 'b3'))
    await redis.rpush('resque:queue:foo', job('Record', 'f2'), job('Record', 'f3'))
    await redis.set('test:release:h', '1')
    await waitFor(async () => (await done()).length === 7, 'all jobs to run', 10_000)
    expect((await done()).slice(2)).toEqual(['h', 'f2', 'f3', 'b2', 'b3'])
  })

  it('with the group *, wakes for a queue that did not exist when it began to wait', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['*=1'], server.url, '60')
    await waitFor(() => title(s.workers[0].pid).startsWith('resque-2.7.0: Waiting for'), 'the worker to wait')
    await redis.sadd('resque:queues', 'fresh')
    await redis.rpush('resque:queue:fresh', job('Record', 'new'))
    await waitFor(async () => (await done()).includes('new'), 'the job in the new queue to run', 10_000)
  })

  it('leaves the queue to a paused worker alone even when woken, and takes it once resumed', async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'], server.url, '60')
    const pid = s.workers[0].pid
    await waitFor(() => title(pid) === 'resque-2.7.0: Waiting for foo', 'the worker to wait')
    expect((await rpd(['pause', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(() => title(pid) === 'resque-2.7.0: Paused', 'the Paused title')
    await redis.rpush('resque:queue:foo', job('Record', 'later'))
    // The worker's connection answers after anything it was sending: a take would show by now.
    await redis.ping()
    expect(await redis.llen('resque:queue:foo')).toBe(1)
    expect((await rpd(['resume', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(async () => (await done()).includes('later'), 'the job to run after CONT', 10_000)
  })
})

describe('the built-in worker without Redis', () => {
  it('keeps retrying while Redis is down, without respawning, and works the queue once it is back', async () => {
    const first = await startRedis()
    const stopFirst = once(first.stop)
    let second: RedisServer | undefined
    try {
      const dir = newStateDir()
      const s = await startBuiltin(dir, ['foo=2'], first.url)
      const pids = s.workers.map((w) => w.pid).sort()
      await stopFirst()
      await waitFor(
        () => pids.every((pid) => logOf(dir).includes(`foo[${pid}]: lost Redis at ${first.url}`)),
        'the workers to notice',
      )
      const raw = await rpd(['status', '--json', '--state-dir', dir])
      expect(raw.stderr).toBe('')
      const down = JSON.parse(raw.stdout) as StatusJson
      expect(down.redis).toEqual({ error: expect.stringContaining(`cannot reach Redis at ${first.url}`) })
      second = await startRedis(first.port)
      const client = second.client()
      // A restarted Redis has forgotten the workers: they register again.
      const ids = pids.map((pid) => workerId(pid, 'foo')).sort()
      await waitFor(
        async () => JSON.stringify((await client.smembers('resque:workers')).sort()) === JSON.stringify(ids),
        'the workers to register again',
      )
      const result = await rpd(['enqueue', 'foo', 'Record', 'after', '--count', '3', '--redis', second.url])
      expect(result.exitCode).toBe(0)
      await waitFor(async () => (await client.get('resque:stat:processed')) === '3', 'the queued jobs to run')
      expect(await done(client)).toHaveLength(3)
      const after = await status(dir)
      expect(after.workers.map((w) => w.pid).sort()).toEqual(pids)
      expect(after.workers.every((w) => w.restarts === 0)).toBe(true)
      expect(after.redis).toMatchObject({ queues: { foo: 0 }, processed: 3, failed: 0 })
    } finally {
      await stopFirst()
      await second?.stop()
    }
  })

  it('stops when asked while Redis is down, instead of waiting for Redis', async () => {
    const own = await startRedis()
    const stopOwn = once(own.stop)
    try {
      const dir = newStateDir()
      const s = await startBuiltin(dir, ['foo=1'], own.url)
      const pid = s.workers[0].pid
      await stopOwn()
      await waitFor(
        () => logOf(dir).includes(`foo[${pid}]: lost Redis at ${own.url}`),
        'the worker to notice',
      )
      const stopped = await rpd(['stop', '--state-dir', dir])
      expect(stopped.exitCode).toBe(0)
      expect(alive(pid)).toBe(false)
      expect(stopped.stdout).toContain(`foo[${pid}]: QUIT: exiting`)
    } finally {
      await stopOwn()
    }
  })
})

// The Redis helper's stop() waits for an exit event, so it must run only once per server.
function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined
  return () => (result ??= fn())
}
