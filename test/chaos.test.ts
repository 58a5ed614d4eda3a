import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { alive, cleanupStates, fixture, newStateDir, rpd, status, waitFor } from './helpers/cli.js'
import { type RedisServer, usePrivateRedis } from './helpers/redis.js'

const JOBS = 2000
let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})
afterEach(cleanupStates)

// A seeded generator, so a failing run can be replayed.
function random(seed: number) {
  let state = seed
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state % n
  }
}

async function startChaosPool(dir: string) {
  const started = await rpd(
    [
      'start',
      'chaos=3',
      'chaos,other=1',
      '--jobs',
      fixture('jobs-chaos.mjs'),
      '--redis',
      server.url,
      '--state-dir',
      dir,
    ],
    { env: { INTERVAL: '0.05' } },
  )
  expect(started.exitCode, started.stderr).toBe(0)
  const enqueued = await rpd(['enqueue', 'chaos', 'Count', '0', '--count', '1', '--redis', server.url])
  expect(enqueued.exitCode, enqueued.stderr).toBe(0)
  // Ids 1..JOBS-1 as raw RPUSHes, the way a Ruby app enqueues.
  const pipeline = redis.pipeline()
  for (let id = 1; id < JOBS; id++)
    pipeline.rpush('resque:queue:chaos', JSON.stringify({ class: 'Count', args: [id] }))
  await pipeline.exec()
}

// 30 random scale changes (to 0 and back among them), a rolling restart and a pause/resume, while jobs run.
async function stirPool(dir: string, next: (n: number) => number, alsoKill: boolean): Promise<number> {
  let kills = 0
  for (let step = 0; step < 30; step++) {
    const count = step % 10 === 4 ? 0 : next(5)
    const result = await rpd([
      'scale',
      `chaos=${count}`,
      ...(step % 3 ? ['--no-wait'] : []),
      '--state-dir',
      dir,
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    if (step === 10) expect((await rpd(['restart', '--state-dir', dir])).exitCode).toBe(0)
    if (step === 20) {
      expect((await rpd(['pause', '--state-dir', dir])).exitCode).toBe(0)
      expect((await rpd(['resume', '--state-dir', dir])).exitCode).toBe(0)
    }
    if (alsoKill && step % 4 === 1) {
      const busy = (await status(dir)).workers.filter((w) => w.job)
      if (busy.length) {
        process.kill(busy[next(busy.length)].pid, 'SIGKILL')
        kills += 1
      }
    }
  }
  await rpd(['scale', 'chaos=4', '--state-dir', dir])
  return kills
}

async function drained(): Promise<boolean> {
  const left = await redis.llen('resque:queue:chaos')
  const busy = (await redis.smembers('resque:workers')).length
    ? (await redis.keys('resque:worker:*')).filter((key) => !key.endsWith(':started')).length
    : 0
  return left === 0 && busy === 0
}

describe('no lost jobs', () => {
  it('2,000 jobs through 30 scale changes, a restart and a pause: each done exactly once, none failed', async () => {
    const dir = newStateDir()
    await startChaosPool(dir)
    await stirPool(dir, random(7), false)
    await waitFor(drained, 'queue drained', 120_000, 200)
    const done = await redis.hgetall('chaos:done')
    const counts = Object.values(done).map(Number)
    expect(Object.keys(done)).toHaveLength(JOBS)
    expect(counts.filter((n) => n !== 1)).toEqual([])
    expect(await redis.llen('resque:failed')).toBe(0)
    expect(Number(await redis.get('resque:stat:processed'))).toBe(JOBS)
  }, 240_000)

  it('with SIGKILLs of busy workers too: every job is done or in resque:failed, and no ghost remains', async () => {
    const dir = newStateDir()
    await startChaosPool(dir)
    const kills = await stirPool(dir, random(11), true)
    expect(kills).toBeGreaterThan(0)
    await waitFor(drained, 'queue drained', 120_000, 200)
    const done = new Set(Object.keys(await redis.hgetall('chaos:done')))
    const failed = (await redis.lrange('resque:failed', 0, -1)).map((entry) => JSON.parse(entry))
    for (const entry of failed) {
      expect(entry.exception).toBe('Resque::DirtyExit')
      done.add(String(entry.payload.args[0]))
    }
    expect(done.size).toBe(JOBS)
    expect(failed.length).toBeLessThanOrEqual(kills)
    // Registrations match the live workers exactly: no ghost of a killed one.
    let last = ''
    try {
      await waitFor(
        async () => {
          const s = await status(dir)
          const live = s.workers.filter((w) => w.state === 'running').map((w) => w.pid)
          const registered = (await redis.smembers('resque:workers')).map((id) => Number(id.split(':')[1]))
          last = `live ${JSON.stringify(live.sort())}, registered ${JSON.stringify(registered.sort())}, states ${JSON.stringify(s.workers.map((w) => [w.pid, w.state]))}`
          return registered.length === live.length && registered.every((pid) => live.includes(pid))
        },
        'registrations to match the live workers',
        15_000,
      )
    } catch (error) {
      const registered = (await redis.smembers('resque:workers')).map((id) => id.split(':')[1])
      const log = fs.readFileSync(path.join(dir, 'master.log'), 'utf8').split('\n')
      const about = log.filter((line) => registered.some((pid) => line.includes(`[${pid}]`)))
      throw new Error(`${(error as Error).message}: ${last}\n${about.slice(-12).join('\n')}`)
    }
  }, 240_000)

  it('with SIGKILLs at random instants (taking, running, finishing a job, or idle): nothing lost, nothing twice', async () => {
    const dir = newStateDir()
    await startChaosPool(dir)
    const next = random(23)
    const killed = new Set<number>()
    // Straight from status.json: the CLI would take longer than the moments the kills aim at.
    const workerPids = () => {
      try {
        const s = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as {
          workers: { pid: number; state: string }[]
        }
        return s.workers.filter((w) => w.pid && !killed.has(w.pid)).map((w) => w.pid)
      } catch {
        return []
      }
    }
    // Killed workers come back after a backoff: keep at it until 25 kills (or the jobs run out).
    const until = Date.now() + 60_000
    while (killed.size < 25 && Date.now() < until && (await redis.llen('resque:queue:chaos')) > 0) {
      await new Promise((resolve) => setTimeout(resolve, next(40)))
      const pids = workerPids()
      if (pids.length === 0) continue
      const pid = pids[next(pids.length)]
      // Only a built-in worker of this pool (its environment names the state directory).
      let environ = ''
      try {
        environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8')
      } catch {
        continue
      }
      if (!environ.includes(`RPD_STATE_DIR=${dir}`)) continue
      process.kill(pid, 'SIGKILL')
      killed.add(pid)
    }
    expect(killed.size).toBeGreaterThan(10)
    await waitFor(drained, 'queue drained', 120_000, 200)
    const done = await redis.hgetall('chaos:done')
    // No job ran twice: a job is never handed out again once taken.
    expect(Object.entries(done).filter(([, n]) => n !== '1')).toEqual([])
    const failed = (await redis.lrange('resque:failed', 0, -1)).map((entry) => JSON.parse(entry))
    const failedIds = failed.map((entry) => String(entry.payload.args[0]))
    for (const entry of failed) expect(entry.exception).toBe('Resque::DirtyExit')
    // Each kill fails at most the one job its worker had started.
    expect(failed.length).toBeLessThanOrEqual(killed.size)
    expect(new Set(failedIds).size).toBe(failedIds.length)
    // Every job is done, or in resque:failed; done exactly once where its worker was not killed during it.
    for (let id = 0; id < JOBS; id++)
      if (!failedIds.includes(String(id))) expect(done[String(id)], `job ${id}`).toBe('1')
    const processed = Number(await redis.get('resque:stat:processed'))
    expect(processed).toBe(JOBS - failed.length)
    // No ghost: every registration and job record belongs to a live worker.
    await waitFor(
      async () => {
        const registered = (await redis.smembers('resque:workers')).map((id) => Number(id.split(':')[1]))
        const records = (await redis.keys('resque:worker:*')).filter((key) => !key.endsWith(':started'))
        return registered.every((pid) => alive(pid) && !killed.has(pid)) && records.length === 0
      },
      'registrations of live workers only',
      15_000,
    )
  }, 240_000)
})
