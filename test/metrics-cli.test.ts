import { execFile } from 'node:child_process'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor } from './helpers/cli.js'
import { freePort, type RedisServer, usePrivateRedis } from './helpers/redis.js'

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

const ENV = { INTERVAL: '0.1', REDIS_URL: '' }

// Runs the real promtool on a scrape (execa strips the final newline of a CLI's output: give it back); resolves to its complaints (empty when the text is valid).
async function promtoolProblems(text: string): Promise<string> {
  const child = execFile('promtool', ['check', 'metrics'])
  const done = new Promise<string>((resolve) => {
    let out = ''
    child.stdout?.on('data', (chunk) => (out += chunk))
    child.stderr?.on('data', (chunk) => (out += chunk))
    child.on('close', (code) => resolve(code === 0 ? '' : out || `exit ${code}`))
  })
  child.stdin?.end(text)
  return done
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url)
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return response.text()
}

async function enqueue(queue: string, klass: string, args: unknown[]): Promise<void> {
  await redis.sadd('resque:queues', queue)
  await redis.rpush(`resque:queue:${queue}`, JSON.stringify({ class: klass, args }))
}

describe('metrics of a running pool', () => {
  it('serves what the pool is doing: workers by state, desired, queues, restarts, scale events', async () => {
    const dir = newStateDir()
    const port = await freePort()
    const start = await rpd(
      [
        'start',
        'foo=2',
        'bar=1',
        '--jobs',
        fixture('jobs.mjs'),
        '--redis',
        server.url,
        '--metrics',
        String(port),
        '--state-dir',
        dir,
      ],
      { env: ENV },
    )
    expect(start.exitCode, start.stderr).toBe(0)
    expect(start.stdout).toContain(`metrics: serving http://127.0.0.1:${port}/metrics`)
    const url = `http://127.0.0.1:${port}/metrics`

    // One foo worker busy with a held job; three jobs wait in a queue nobody works.
    await enqueue('foo', 'Hold', ['m1'])
    for (const n of [1, 2, 3]) await enqueue('elsewhere', 'Record', [`e${n}`])
    await waitFor(async () => (await redis.llen('test:started')) === 1, 'the held job to start')
    let text = await waitFor(async () => {
      const t = await scrape(url)
      return sample(t, 'rpd_workers{group="foo",state="busy"}') === 1 ? t : undefined
    }, 'a busy foo worker in the metrics')
    expect(await promtoolProblems(text)).toBe('')
    expect(sample(text, 'rpd_workers{group="foo",state="idle"}')).toBe(1)
    expect(sample(text, 'rpd_workers{group="bar",state="idle"}')).toBe(1)
    expect(sample(text, 'rpd_desired_workers{group="foo"}')).toBe(2)
    expect(sample(text, 'rpd_desired_workers{group="bar"}')).toBe(1)
    expect(sample(text, 'resque_jobs_in_queue{queue="elsewhere"}')).toBe(3)
    expect(sample(text, 'resque_jobs_in_queue{queue="foo"}')).toBe(0)
    expect(sample(text, 'resque_workers')).toBe(3)
    expect(sample(text, 'resque_working_workers')).toBe(1)
    expect(sample(text, 'rpd_restarts_total{group="bar"}')).toBe(0)

    // A killed worker is a restart; a scale is one event up.
    const bar = (await status(dir)).workers.find((w) => w.queues === 'bar')!
    process.kill(bar.pid, 'SIGKILL')
    expect((await rpd(['scale', 'foo=3', '--state-dir', dir])).exitCode).toBe(0)
    text = await waitFor(async () => {
      const t = await scrape(url)
      return sample(t, 'rpd_restarts_total{group="bar"}') === 1 ? t : undefined
    }, 'the restart counted')
    expect(sample(text, 'rpd_desired_workers{group="foo"}')).toBe(3)
    expect(sample(text, 'rpd_scale_events_total{group="foo",direction="up",reason="manual"}')).toBe(1)
    expect(await promtoolProblems(text)).toBe('')

    // rpd metrics prints the same families once, from status.json and Redis.
    const once = await rpd(['metrics', '--state-dir', dir])
    expect(once.exitCode, once.stderr).toBe(0)
    expect(await promtoolProblems(`${once.stdout}\n`)).toBe('')
    expect(sample(once.stdout, 'rpd_desired_workers{group="foo"}')).toBe(3)
    expect(sample(once.stdout, 'rpd_restarts_total{group="bar"}')).toBe(1)
    expect(sample(once.stdout, 'rpd_scale_events_total{group="foo",direction="up",reason="manual"}')).toBe(1)
    expect(sample(once.stdout, 'resque_jobs_in_queue{queue="elsewhere"}')).toBe(3)
    const families = (t: string) => t.split('\n').filter((l) => l.startsWith('# TYPE'))
    expect(families(once.stdout)).toEqual(families(text))

    await redis.set('test:release:m1', '1')
    expect((await rpd(['stop', '--state-dir', dir])).exitCode).toBe(0)
    await expect(fetch(url)).rejects.toThrow()
  })

  it('serves no metrics unless asked, and refuses a bad address before starting', async () => {
    const dir = newStateDir()
    const bad = await rpd([
      'start',
      'foo=1',
      '--command',
      fixture('idle-worker.sh'),
      '--metrics',
      'http://x:1/',
      '--state-dir',
      dir,
    ])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/^rpd: --metrics: metrics address "http:\/\/x:1\/": give HOST:PORT only/)
    const none = await rpd(['metrics', '--state-dir', dir])
    expect(none.exitCode).toBe(3)
    expect(none.stderr).toMatch(/no pool is running/)
    const start = await rpd(['start', 'foo=1', '--command', fixture('idle-worker.sh'), '--state-dir', dir])
    expect(start.exitCode, start.stderr).toBe(0)
    expect(start.stdout).not.toContain('metrics:')
    const once = await rpd(['metrics', '--state-dir', dir])
    expect(once.exitCode, once.stderr).toBe(0)
    expect(await promtoolProblems(`${once.stdout}\n`)).toBe('')
    expect(sample(once.stdout, 'rpd_workers{group="foo",state="running"}')).toBe(1)
    expect(once.stdout).not.toContain('resque_workers')
  })
})
