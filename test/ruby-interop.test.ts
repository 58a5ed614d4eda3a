import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { inspect } from 'node:util'
import type { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import { FIXTURES, cleanupStates, newStateDir, rpd, status, waitFor, type StatusJson } from './helpers/cli.js'
import { type RedisServer, freePort, usePrivateRedis } from './helpers/redis.js'
import { RAKEFILE, describeRuby } from './helpers/ruby.js'

const HOST = os.hostname()
const JOBS = path.join(FIXTURES, 'ruby/jobs.mjs')
const rubyScript = (name: string) => path.join(FIXTURES, 'ruby', name)
const run = promisify(execFile)

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})

const children: ChildProcess[] = []
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
  cleanupStates()
})

const workerId = (pid: number, group = 'foo') => `${HOST}:${pid}:${group}`
// What the Inspect and Flaky jobs record: util.inspect of their arguments, with these options.
const showJs = (args: unknown[]) => inspect(args, { depth: null, breakLength: Infinity })

interface Seen {
  pid: number
  tag?: string
  args: string
}

async function seen(): Promise<Seen[]> {
  return (await redis.lrange('test:seen', 0, -1)).map((entry) => JSON.parse(entry) as Seen)
}

async function failures(): Promise<Record<string, unknown>[]> {
  return (await redis.lrange('resque:failed', 0, -1)).map((e) => JSON.parse(e) as Record<string, unknown>)
}

describeRuby('Ruby Resque and rpd on one Redis', (ruby) => {
  const rubyEnv = () => ({ ...process.env, ...ruby, REDIS_URL: server.url })

  async function startBuiltin(dir: string, specs: string[]): Promise<StatusJson> {
    const result = await rpd(['start', ...specs, '--jobs', JOBS, '--redis', server.url, '--state-dir', dir], {
      env: { INTERVAL: '0.1', REDIS_URL: '' },
    })
    expect(result.exitCode, result.stderr).toBe(0)
    return status(dir)
  }

  async function enqueue(queue: string, className: string, ...args: string[]): Promise<void> {
    const result = await rpd(['enqueue', queue, className, ...args, '--redis', server.url])
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
  }

  async function get(base: string, page: string): Promise<string> {
    const response = await fetch(`${base}${page}`)
    expect(response.status, page).toBe(200)
    return response.text()
  }

  it("Ruby's Resque.enqueue -> rpd's worker: the job sees exactly the arguments Ruby sent", async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=1'])
    await run('ruby', [rubyScript('enqueue.rb')], { env: rubyEnv(), timeout: 30_000 })
    const [job] = await waitFor(async () => {
      const entries = await seen()
      return entries.length ? entries : undefined
    }, 'the job to run')
    expect(job.pid).toBe(s.workers[0].pid)
    expect(job.args).toBe(
      showJs([
        'héllo ✓ 日本 🎉 "q" \\ \n',
        { a: { b: [1, 2.5, null, true, false] }, é: [] },
        2n ** 70n,
        12345678901234567890n,
        -9007199254740993n,
        9007199254740991,
        0.1,
        2,
        1e20,
        -1.5e-7,
        0,
      ]),
    )
    expect(await redis.llen('resque:failed')).toBe(0)
  })

  it('rpd enqueue -> a Ruby worker: Ruby sees exactly the arguments typed, as JSON where they parse', async () => {
    const dir = newStateDir()
    const started = await rpd(
      ['start', 'foo=1', '--command', `rake -f ${RAKEFILE} resque:work`, '--state-dir', dir],
      {
        env: { ...ruby, REDIS_URL: server.url, INTERVAL: '0.1' },
      },
    )
    expect(started.exitCode, started.stderr).toBe(0)
    await enqueue(
      'foo',
      'Record',
      '"héllo ✓ 日本 🎉 \\"q\\" \\\\ \\n"',
      '{"a":{"b":[1,2.5,null,true,false]},"é":[]}',
      '1180591620717411303424',
      '12345678901234567890',
      '-9007199254740993',
      '0.1',
      '2.0',
      '1.0e+20',
      '-1.5e-7',
      'plain text',
      '007',
    )
    const entry = await waitFor(
      async () => (await redis.lrange('test:args', 0, -1))[0],
      'the Ruby job to run',
    )
    const recorded = JSON.parse(entry) as { inspect: string; pid: number }
    expect(recorded.inspect).toBe(
      '["héllo ✓ 日本 🎉 \\"q\\" \\\\ \\n", {"a"=>{"b"=>[1, 2.5, nil, true, false]}, "é"=>[]}, 1180591620717411303424, ' +
        '12345678901234567890, -9007199254740993, 0.1, 2.0, 1.0e+20, -1.5e-07, "plain text", "007"]',
    )
    expect(await redis.llen('resque:failed')).toBe(0)
  })

  it("Ruby's prune_dead_workers keeps rpd's live workers and removes the dead registrations", async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=2', 'bar=1'])
    const live = s.workers.map((w) => workerId(w.pid, w.queues))
    const deadPid = spawnSync('true').pid
    const [now] = await redis.time()
    const iso = (secondsAgo: number) =>
      new Date((Number(now) - secondsAgo) * 1000).toISOString().replace(/\.\d+Z$/, '+00:00')
    const dead = workerId(deadPid, 'foo')
    const silent = 'elsewhere:4242:foo'
    const elsewhere = 'elsewhere:4343:foo'
    await redis.sadd('resque:workers', dead, silent, elsewhere)
    await redis.hset('resque:workers:heartbeat', dead, iso(5), silent, iso(600), elsewhere, iso(5))
    const job = { queue: 'foo', run_at: '2026-11-30T10:00:00Z', payload: { class: 'Hold', args: ['lost'] } }
    await redis.set(`resque:worker:${dead}`, JSON.stringify(job))
    // rpd's workers took Ruby's pruning lock when they started; a Ruby worker starting a minute later finds it free.
    await redis.del('resque:pruning_dead_workers_in_progress')
    const { stdout } = await run('ruby', [rubyScript('prune.rb')], { env: rubyEnv(), timeout: 30_000 })
    expect(stdout.trim().split('\n')).toEqual([...live, elsewhere].sort())
    expect((await redis.smembers('resque:workers')).sort()).toEqual([...live, elsewhere].sort())
    expect(Object.keys(await redis.hgetall('resque:workers:heartbeat')).sort()).toEqual(
      [...live, elsewhere].sort(),
    )
    const failed = await failures()
    expect(failed.map((f) => [f.worker, f.exception])).toEqual([[dead, 'Resque::DirtyExit']])
    expect(failed[0].payload).toEqual(job.payload)
    // And rpd's workers go on working.
    await enqueue('foo', 'Inspect', '1')
    await waitFor(async () => (await seen()).length === 1, 'a job after the pruning')
  })

  it("resque-web lists rpd's workers, their jobs and failures; its Retry gets the job performed by rpd", async () => {
    const dir = newStateDir()
    const s = await startBuiltin(dir, ['foo=2'])
    const pids = s.workers.map((w) => w.pid)
    const port = await freePort()
    const web = spawn('ruby', [rubyScript('web.rb')], {
      env: { ...rubyEnv(), PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    children.push(web)
    let webErrors = ''
    web.stderr?.on('data', (chunk: Buffer) => (webErrors += chunk.toString()))
    const base = `http://127.0.0.1:${port}`
    await waitFor(
      async () => {
        if (web.exitCode !== null) throw new Error(`resque-web exited ${web.exitCode}: ${webErrors}`)
        return (await fetch(`${base}/workers`)).ok
      },
      `resque-web on ${port}`,
      30_000,
      100,
    )

    await enqueue('foo', 'Hold', 'w1')
    const holder = await waitFor(async () => {
      const started = await redis.lrange('test:started', 0, -1)
      return started.length ? (JSON.parse(started[0]) as { pid: number }).pid : undefined
    }, 'the Hold job to start')
    await enqueue('foo', 'Flaky', 'r1', '12345678901234567890', '2.5')
    await waitFor(async () => (await redis.llen('resque:failed')) === 1, 'the Flaky job to fail')
    const [failure] = await failures()
    const failedBy = pids.find((pid) => failure.worker === workerId(pid))!
    expect(failedBy).toBeDefined()

    const workers = await get(base, '/workers')
    expect(workers).toContain(`${pids.length} Workers`)
    for (const pid of pids) expect(workers).toContain(`workers/${workerId(pid)}`)

    const working = await get(base, '/working')
    expect(working).toContain(`1 of ${pids.length} Workers Working`)
    expect(working).toContain(`${HOST}:${holder}<`)
    expect(working).toMatch(/<code>Hold<\/code>/)
    const job = await get(base, `/working/${workerId(holder)}`)
    expect(job).toContain(`${workerId(holder)}'s job`)
    // resque-web shows each argument as YAML.
    expect(job).toMatch(/<code>Hold<\/code>[\s\S]*<pre>--- w1\n/)

    const failedPage = await get(base, '/failed')
    expect(failedPage).toContain(`${HOST}:${failedBy}<`)
    expect(failedPage).toContain('Flaky')
    expect(failedPage).toContain('not fixed yet: r1')
    expect(failedPage).toMatch(/<pre>--- r1\n\n--- 12345678901234567890\n\n--- 2\.5\n<\/pre>/)
    const retry = /<a href="([^"]+)" rel="retry">Retry<\/a>/.exec(failedPage)?.[1]
    expect(retry, failedPage).toBeDefined()

    await redis.set('test:fixed', '1')
    const response = await fetch(new URL(retry!, base), { redirect: 'manual' })
    expect(response.status).toBeLessThan(400)
    const done = await waitFor(
      async () => (await seen()).find((e) => e.tag === 'r1'),
      'the retried job to run',
    )
    expect(pids).toContain(done.pid)
    expect(done.args).toBe(showJs([12345678901234567890n, 2.5]))
    expect((await failures())[0].retried_at).toEqual(expect.any(String))
    await redis.set('test:release:w1', '1')
  })
})
