import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultHostId } from '../src/client/start-pool.js'
import { parseFleetChanges } from '../src/client/fleet-client.js'
import { formatPool, parsePool } from '../src/state/pool-file.js'
import { alive, cleanupStates, fixture, newStateDir, rpd, waitFor } from './helpers/cli.js'
import { type RedisServer, freePort, usePrivateRedis } from './helpers/redis.js'

const JOBS = fixture('jobs-sleep.mjs')
const FLEET = 'batch'
const GROUP = 'images'
const TARGET = 7
// The most any member holds of 7 over 2 or 3 members: the bound is the target plus one share.
const BOUND = TARGET + 4

let server: RedisServer
let redis: Redis
usePrivateRedis((s, r) => {
  server = s
  redis = r
})

// A TCP proxy in front of Redis that can be stopped (every connection cut, new ones refused) and started again.
class RedisProxy {
  private server?: net.Server
  private readonly sockets = new Set<net.Socket>()
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1')
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('error', () => undefined)
        socket.on('close', () => {
          this.sockets.delete(socket)
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve))
  }

  async stop(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve))
    for (const socket of this.sockets) socket.destroy()
    await closed
  }
}

let proxy: RedisProxy | undefined
afterEach(async () => {
  cleanupStates()
  await proxy?.stop()
  proxy = undefined
})

interface MemberStatus {
  pid: number
  workers: { pid: number; queues: string; state: string }[]
  fleet?: { reachable: boolean; share: Record<string, number>; members: { id: string }[] }
}

function readStatus(dir: string): MemberStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as MemberStatus
  } catch {
    return undefined
  }
}

const masterPid = (dir: string) =>
  Number(fs.readFileSync(path.join(dir, 'master.pid'), 'utf8').split('\n')[0])
const running = (dir: string) =>
  readStatus(dir)?.workers.filter((w) => w.queues === GROUP && w.state === 'running').length ?? 0
// Every worker process still alive that a member's status names, stopping ones included.
const liveWorkers = (dir: string) =>
  readStatus(dir)?.workers.filter((w) => w.queues === GROUP && alive(w.pid)).length ?? 0

async function startMember(dir: string, hostId: string, url: string) {
  const result = await rpd([
    'start',
    '--fleet',
    FLEET,
    '--redis',
    url,
    '--host-id',
    hostId,
    '--jobs',
    JOBS,
    '--state-dir',
    dir,
    '--no-wait',
  ])
  expect(result.exitCode, result.stderr).toBe(0)
}

async function enqueueNaps(count: number, ms: number) {
  const pipeline = redis.pipeline().sadd('resque:queues', GROUP)
  for (let i = 0; i < count; i++)
    pipeline.rpush(`resque:queue:${GROUP}`, JSON.stringify({ class: 'Nap', args: [ms, `job-${i}`] }))
  await pipeline.exec()
}

describe('fleet settings', () => {
  it('gives two state directories on one host different member ids, stable for each', () => {
    const a = defaultHostId('/srv/a/.rpd', 'web-3')
    expect(a).toMatch(/^web-3-[0-9a-f]{6}$/)
    expect(defaultHostId('/srv/a/.rpd', 'web-3')).toBe(a)
    expect(defaultHostId('/srv/b/.rpd', 'web-3')).not.toBe(a)
    expect(defaultHostId('/srv/a/.rpd', 'my host (1)')).toMatch(/^my-host--1--[0-9a-f]{6}$/)
  })

  it('reads fleet changes: counts, ranges, 0 drops the group, bad input refused', () => {
    expect(parseFleetChanges(['images=12', 'mail=0..20'])).toEqual({ images: '12', mail: '0..20' })
    expect(parseFleetChanges(['images=12:mail=0'])).toEqual({ images: '12', mail: null })
    expect(parseFleetChanges(['a,b=3'])).toEqual({ 'a,b': '3' })
    for (const bad of [[], ['images'], ['=3'], ['images=+2'], ['images=5..2'], ['images=x']])
      expect(() => parseFleetChanges(bad), JSON.stringify(bad)).toThrow(/fleet|change|spec|range/)
  })

  it('keeps fleet: {name, hostId, weight} in pool.yml', () => {
    const pool = parsePool(
      'formation: {notes: 1}\njobs: /j.mjs\nfleet: {name: batch, hostId: web-3, weight: 2}\n',
      'pool.yml',
    )
    expect(pool.fleet).toEqual({ name: 'batch', hostId: 'web-3', weight: 2 })
    expect(parsePool(formatPool(pool), 'pool.yml').fleet).toEqual(pool.fleet)
    expect(parsePool('formation: {notes: 1}\n', 'pool.yml').fleet).toBeUndefined()
    expect(() => parsePool('fleet: {name: batch}\n', 'pool.yml')).toThrow(/hostId/)
    expect(() => parsePool('fleet: {name: b, hostId: h, weight: -1}\n', 'pool.yml')).toThrow(/weight/)
  })
})

describe('a fleet of masters sharing one formation through Redis', () => {
  it('splits 7 workers 3/2/2, survives a SIGKILL, a rejoin and a member cut off from Redis, and runs each job once', async () => {
    // No master anywhere: the formation goes straight into Redis.
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'rpdfleet-'))
    const scaled = await rpd(['scale', '--fleet', FLEET, '--redis', server.url, `${GROUP}=${TARGET}`], {
      cwd: bare,
    })
    expect(scaled.exitCode, scaled.stderr).toBe(0)
    expect(scaled.stdout).toContain(`fleet ${FLEET} generation 1: ${GROUP}=${TARGET}`)
    expect(fs.existsSync(path.join(bare, '.rpd'))).toBe(false)
    fs.rmSync(bare, { recursive: true, force: true })

    proxy = new RedisProxy(await freePort(), server.port)
    await proxy.start()
    const dirs = { m1: newStateDir(), m2: newStateDir(), m3: newStateDir() }
    await startMember(dirs.m1, 'm1', server.url)
    await startMember(dirs.m2, 'm2', server.url)
    await startMember(dirs.m3, 'm3', proxy.url)
    const all = Object.values(dirs)
    const total = () => all.reduce((sum, dir) => sum + running(dir), 0)
    const split = () => [running(dirs.m1), running(dirs.m2), running(dirs.m3)].join('/')
    await waitFor(() => split() === '3/2/2', `the split 3/2/2 (now ${split()})`, 20_000)

    // From here on, every 100 ms: the workers alive across the fleet never exceed the bound.
    const samples: number[] = []
    const sampler = setInterval(() => samples.push(all.reduce((sum, dir) => sum + liveWorkers(dir), 0)), 100)
    try {
      const JOB_COUNT = 1200
      await enqueueNaps(JOB_COUNT, 150)

      // The lease holder dies: the survivors carry all 7 within 10 s and one of them takes the lease.
      const holder = (await redis.get(`rpd:fleet:${FLEET}:lease`))!.split(':')[1]!
      expect(Object.keys(dirs)).toContain(holder)
      const victim = dirs[holder as keyof typeof dirs]
      const survivors = all.filter((dir) => dir !== victim)
      const killedAt = Date.now()
      process.kill(masterPid(victim), 'SIGKILL')
      await waitFor(
        () => survivors.reduce((sum, dir) => sum + running(dir), 0) === TARGET,
        'the survivors to run 7',
        10_000,
      )
      expect(Date.now() - killedAt).toBeLessThan(10_000)
      const newHolder = await waitFor(
        async () => {
          const value = await redis.get(`rpd:fleet:${FLEET}:lease`)
          const id = value?.split(':')[1]
          return id && id !== holder ? id : undefined
        },
        'the lease to move',
        10_000,
      )
      expect(Object.keys(dirs)).toContain(newHolder)

      // It comes back under its own id and state directory: the split returns without overshoot.
      await startMember(victim, holder, holder === 'm3' ? proxy.url : server.url)
      await waitFor(() => split() === '3/2/2', `the split 3/2/2 after the rejoin (now ${split()})`, 15_000)

      // m3 loses Redis: it keeps its 2 workers; after its heartbeat expires m1 and m2 run 4 and 3.
      const m3Pids = () =>
        (readStatus(dirs.m3)?.workers ?? [])
          .filter((w) => w.queues === GROUP && w.state === 'running')
          .map((w) => w.pid)
          .sort()
          .join(',')
      const kept = m3Pids()
      await proxy.stop()
      await waitFor(
        () => running(dirs.m1) === 4 && running(dirs.m2) === 3,
        `m1 and m2 to take m3's share (now ${split()})`,
        12_000,
      )
      expect(running(dirs.m3)).toBe(2)
      // It notices by its own clock, 5 s after its last read of the fleet.
      await waitFor(
        () => readStatus(dirs.m3)?.fleet?.reachable === false,
        'm3 to report Redis unreachable',
        5_000,
      )
      expect(m3Pids()).toBe(kept)
      await proxy.start()
      // The others shrink back once m3's beat lands again; m3 says so once it has read the fleet.
      await waitFor(
        () => split() === '3/2/2' && readStatus(dirs.m3)?.fleet?.reachable === true,
        `m3 back in: 3/2/2 (now ${split()})`,
        15_000,
      )
      // Its share is 2 before, during and after: the same two workers all along.
      expect(m3Pids()).toBe(kept)

      const fleet = await rpd(['status', '--fleet', FLEET, '--redis', server.url, '--json'])
      expect(fleet.exitCode, fleet.stderr).toBe(0)
      const report = JSON.parse(fleet.stdout) as {
        members: { id: string; share: Record<string, number> }[]
        totals: { share: Record<string, number> }
      }
      expect(report.members.map((m) => m.id)).toEqual(['m1', 'm2', 'm3'])
      expect(report.members.map((m) => m.share[GROUP])).toEqual([3, 2, 2])
      expect(report.totals.share[GROUP]).toBe(TARGET)

      // Every job ran once, through all of it.
      await waitFor(async () => (await redis.llen('test:done')) >= JOB_COUNT, 'every job to finish', 60_000)
      const tags = (await redis.lrange('test:done', 0, -1)).map(
        (line) => (JSON.parse(line) as { tag: string }).tag,
      )
      expect(tags.length).toBe(JOB_COUNT)
      expect(new Set(tags).size).toBe(JOB_COUNT)
      expect(await redis.llen('resque:failed')).toBe(0)
      expect(total()).toBe(TARGET)
    } finally {
      clearInterval(sampler)
    }
    expect(samples.length).toBeGreaterThan(50)
    expect(Math.max(...samples)).toBeLessThanOrEqual(BOUND)
  }, 120_000)

  it('an automatic group is decided once, by the lease holder, and local scale of a fleet group is refused', async () => {
    const dirs = { m1: newStateDir(), m2: newStateDir() }
    await startMember(dirs.m1, 'm1', server.url)
    await startMember(dirs.m2, 'm2', server.url)
    const scaled = await rpd(['scale', '--fleet', FLEET, '--redis', server.url, 'mail=0..6'])
    expect(scaled.exitCode, scaled.stderr).toBe(0)
    const holder = await waitFor(
      async () => (await redis.get(`rpd:fleet:${FLEET}:lease`))?.split(':')[1],
      'a lease holder',
    )
    const other = holder === 'm1' ? 'm2' : 'm1'
    const pipeline = redis.pipeline().sadd('resque:queues', 'mail')
    for (let i = 0; i < 200; i++)
      pipeline.rpush('resque:queue:mail', JSON.stringify({ class: 'Nap', args: [50, `mail-${i}`] }))
    await pipeline.exec()
    const mail = (dir: string) =>
      readStatus(dir)?.workers.filter((w) => w.queues === 'mail' && w.state === 'running').length ?? 0
    await waitFor(() => mail(dirs.m1) > 0 && mail(dirs.m2) > 0, 'both members to run mail workers')
    const log = (id: keyof typeof dirs) => fs.readFileSync(path.join(dirs[id], 'master.log'), 'utf8')
    expect(log(holder as keyof typeof dirs)).toMatch(
      new RegExp(`autoscale \\(fleet, decided by ${holder}\\): mail 0 -> \\d+ \\(`),
    )
    await waitFor(
      () => new RegExp(`autoscale \\(fleet, decided by ${holder}\\): mail`).test(log(other)),
      'the other member to name the holder',
    )
    expect(log(other)).not.toMatch(new RegExp(`decided by ${other}`))
    const own = await rpd(['status', '--state-dir', dirs.m1])
    expect(own.stdout).toMatch(
      new RegExp(`fleet ${FLEET}: member m1 \\(weight 1\\) of 2, share mail=\\d+, lease ${holder}`),
    )
    const decisions = await redis.hgetall(`rpd:fleet:${FLEET}:decisions`)
    expect(JSON.parse(decisions.mail!)).toMatchObject({ holder })

    const refused = await rpd(['scale', 'mail=3', '--state-dir', dirs[other as keyof typeof dirs]])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toContain(`rpd scale --fleet ${FLEET}`)
    // A group the fleet formation does not name is this member's own.
    const local = await rpd(['scale', 'notes=1', '--state-dir', dirs.m1])
    expect(local.exitCode, local.stderr).toBe(0)
    await waitFor(
      () => readStatus(dirs.m1)?.workers.some((w) => w.queues === 'notes' && w.state === 'running'),
      'the local group to run on m1',
    )
    expect(readStatus(dirs.m2)?.workers.some((w) => w.queues === 'notes')).toBe(false)
    await waitFor(async () => (await redis.llen('test:done')) >= 200, 'the mail jobs to finish', 30_000)
  }, 60_000)
})
