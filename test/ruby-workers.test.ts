import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import { alive, cleanupStates, newStateDir, processTable, rpd, status, waitFor } from './helpers/cli.js'
import { type RedisServer, usePrivateRedis } from './helpers/redis.js'
import { RAKEFILE, describeRuby } from './helpers/ruby.js'

const HOST = os.hostname()
const WORK = `rake -f ${RAKEFILE} resque:work`

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

const title = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]
const logOf = (dir: string) => fs.readFileSync(path.join(dir, 'master.log'), 'utf8')
const workerId = (pid: number) => `${HOST}:${pid}:foo`

// Tags a Ruby job pushed to a test:* list, in order.
async function tags(list: string): Promise<string[]> {
  return (await redis.lrange(list, 0, -1)).map((entry) => (JSON.parse(entry) as { tag: string }).tag)
}

async function enqueue(className: string, ...args: string[]): Promise<void> {
  const result = await rpd(['enqueue', 'foo', className, ...args, '--redis', server.url])
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
}

// A Hold or Sleep job's forked child, once it has started; and the Ruby worker that forked it.
async function startedJob(tag: string): Promise<{ child: number; worker: number }> {
  const entry = await waitFor(async () => {
    const started = await redis.lrange('test:started', 0, -1)
    return started.map((e) => JSON.parse(e) as { tag: string; pid: number }).find((e) => e.tag === tag)
  }, `job ${tag} to start`)
  const parent = processTable().get(entry.pid)?.ppid
  expect(parent).toBeDefined()
  return { child: entry.pid, worker: parent! }
}

describeRuby('Ruby Resque workers under rpd', (ruby) => {
  // Starts Ruby workers and waits until each has registered and shows Resque's waiting title.
  async function startRuby(dir: string, spec: string, extraEnv: NodeJS.ProcessEnv = {}) {
    const result = await rpd(['start', spec, '--command', WORK, '--state-dir', dir], {
      env: { ...ruby, REDIS_URL: server.url, INTERVAL: '0.1', VERBOSE: '1', ...extraEnv },
    })
    expect(result.exitCode, result.stderr).toBe(0)
    return waitReady(dir, Number(spec.split('=')[1]))
  }

  // Waits until COUNT Ruby workers have registered and each shows the title WANTED gives it (Waiting, by default).
  function waitReady(dir: string, count: number, wanted = (_pid: number) => 'resque-2.7.0: Waiting for foo') {
    return waitFor(
      async () => {
        const s = await status(dir)
        const pids = s.workers.map((w) => w.pid)
        const ids = (await redis.smembers('resque:workers')).sort()
        const ready =
          pids.length === count &&
          ids.join(' ') ===
            pids
              .map((pid) => workerId(pid))
              .sort()
              .join(' ') &&
          pids.every((pid) => title(pid) === wanted(pid))
        return ready ? s : undefined
      },
      'the Ruby workers to register and wait',
      30_000,
    )
  }

  it('scale-down reads busy/idle from the Ruby titles: the idle worker stops, the busy one keeps its job', async () => {
    const dir = newStateDir()
    const old = (await startRuby(dir, 'foo=1')).workers[0].pid
    // Hold the older worker off the queue, so the job goes to the younger: youngest-first alone would stop the busy one.
    process.kill(old, 'SIGUSR2')
    await waitFor(() => title(old) === 'resque-2.7.0: Paused', 'the older worker to pause')
    expect((await rpd(['scale', 'foo=2', '--state-dir', dir])).exitCode).toBe(0)
    const two = await waitReady(
      dir,
      2,
      (pid) => `resque-2.7.0: ${pid === old ? 'Paused' : 'Waiting for foo'}`,
    )
    const young = two.workers.map((w) => w.pid).find((pid) => pid !== old)!
    await enqueue('Hold', 's1')
    expect((await startedJob('s1')).worker).toBe(young)
    process.kill(old, 'SIGCONT')
    await waitFor(() => title(old) === 'resque-2.7.0: Waiting for foo', 'the older worker to resume')
    await waitFor(() => title(young).startsWith('resque-2.7.0: Forked '), 'the Forked title')
    const scaled = await rpd(['scale', 'foo=1', '--state-dir', dir])
    expect(scaled.exitCode).toBe(0)
    await waitFor(() => !alive(old), 'the idle Ruby worker to exit')
    const after = await status(dir)
    expect(after.workers.map((w) => w.pid)).toEqual([young])
    expect(logOf(dir)).toContain(`scale: stopping worker[${old}] queues: foo (QUIT)`)
    expect(await redis.smembers('resque:workers')).toEqual([workerId(young)])
    await redis.set('test:release:s1', '1')
    await waitFor(async () => (await tags('test:done')).includes('s1'), 'the busy job to finish')
    expect(alive(young)).toBe(true)
    expect(await redis.llen('resque:failed')).toBe(0)
  })

  it('QUIT during a forked job lets the job finish, then the Ruby worker exits', async () => {
    const dir = newStateDir()
    await startRuby(dir, 'foo=1')
    await enqueue('Hold', 'q1')
    const { child, worker } = await startedJob('q1')
    process.kill(worker, 'SIGQUIT')
    await waitFor(
      () => new RegExp(`foo\\[${worker}\\]: .*Exiting\\.\\.\\.`).test(logOf(dir)),
      'Ruby to take QUIT',
    )
    expect(alive(worker)).toBe(true)
    expect(alive(child)).toBe(true)
    expect(await tags('test:done')).toEqual([])
    await redis.set('test:release:q1', '1')
    await waitFor(() => !alive(worker), 'the Ruby worker to exit after its job')
    expect(await tags('test:done')).toEqual(['q1'])
    expect(await redis.llen('resque:failed')).toBe(0)
    expect(await redis.sismember('resque:workers', workerId(worker))).toBe(0)
  })

  it('TERM from rpd stops the Ruby worker now, and Ruby records the interrupted job in resque:failed', async () => {
    const dir = newStateDir()
    const s = await startRuby(dir, 'foo=1')
    await enqueue('Hold', 't1')
    const { child, worker } = await startedJob('t1')
    const killed = await rpd(['kill', 'TERM', '--state-dir', dir])
    expect(killed.exitCode, killed.stderr).toBe(0)
    await waitFor(() => !alive(s.pid!), 'the pool to stop')
    expect(alive(worker)).toBe(false)
    expect(alive(child)).toBe(false)
    const failed = await waitFor(async () => {
      const entries = await redis.lrange('resque:failed', 0, -1)
      return entries.length === 1 ? (JSON.parse(entries[0]) as Record<string, unknown>) : undefined
    }, 'the failure')
    expect(failed).toMatchObject({
      payload: { class: 'Hold', args: ['t1'] },
      exception: expect.stringMatching(/^Resque::(DirtyExit|TermException)$/),
      worker: workerId(worker),
      queue: 'foo',
    })
    expect(await tags('test:done')).toEqual([])
    expect(await redis.smembers('resque:workers')).toEqual([])
  })

  it('rpd pause holds Ruby workers off the queue; rpd resume lets them work it', async () => {
    const dir = newStateDir()
    const s = await startRuby(dir, 'foo=1', { VVERBOSE: '1' })
    const pid = s.workers[0].pid
    expect((await rpd(['pause', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(() => title(pid) === 'resque-2.7.0: Paused', 'the Paused title')
    await enqueue('Record', 'p1')
    // Two more turns of the paused worker's loop, each of which would have taken the job had it not been paused.
    const seen = logOf(dir).split('Sleeping for').length
    await waitFor(() => logOf(dir).split('Sleeping for').length >= seen + 2, 'two more paused turns')
    expect(await redis.llen('resque:queue:foo')).toBe(1)
    expect(await redis.llen('test:args')).toBe(0)
    expect((await rpd(['resume', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(async () => (await redis.llen('test:args')) === 1, 'the job to run after resume')
    expect(await redis.llen('resque:queue:foo')).toBe(0)
  })

  it('rpd status shows the forked job child under its Ruby worker', async () => {
    const dir = newStateDir()
    await startRuby(dir, 'foo=1')
    await enqueue('Hold', 'f1')
    const { child, worker } = await startedJob('f1')
    const lines = await waitFor(async () => {
      const out = (await rpd(['status', '--state-dir', dir])).stdout.split('\n')
      return out.some((line) => line.includes(` ${child} `) && line.includes('Processing foo'))
        ? out
        : undefined
    }, 'status to show the job child')
    const at = lines.findIndex((line) =>
      new RegExp(`-[+-]- ${worker} .*resque-2\\.7\\.0: Forked ${child} `).test(line),
    )
    expect(at, lines.join('\n')).toBeGreaterThan(0)
    expect(lines[at]).toContain('(foo, running')
    // The child is the worker's only descendant, drawn one level deeper right below it.
    const indent = lines[at].indexOf(`${worker} `)
    expect(lines[at + 1]).toMatch(
      new RegExp(`\\\\--- ${child} .*resque-2\\.7\\.0: Processing foo since \\d+ \\[Hold\\]`),
    )
    expect(lines[at + 1].indexOf(`${child} `)).toBe(indent + 3)
    await redis.set('test:release:f1', '1')
  })

  it('after the master is SIGKILLed, no Ruby worker is left once its job ends', async () => {
    const dir = newStateDir()
    const s = await startRuby(dir, 'foo=2')
    await enqueue('Hold', 'm1')
    const { child, worker: busy } = await startedJob('m1')
    const idle = s.workers.map((w) => w.pid).find((pid) => pid !== busy)!
    process.kill(s.pid!, 'SIGKILL')
    await waitFor(() => !alive(idle), 'the idle Ruby worker to exit')
    expect(alive(busy)).toBe(true)
    expect(alive(child)).toBe(true)
    await redis.set('test:release:m1', '1')
    await waitFor(() => !alive(busy) && !alive(child), 'the busy Ruby worker to exit after its job')
    expect(await tags('test:done')).toEqual(['m1'])
    expect(await redis.smembers('resque:workers')).toEqual([])
    expect(await redis.llen('resque:failed')).toBe(0)
  })
})
