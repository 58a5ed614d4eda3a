import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { waitFor } from './helpers/cli.js'
import { usePrivateRedis, type RedisServer } from './helpers/redis.js'
import { parseFleetEvent, subscribeFleetEvents, type FleetEvent } from '../src/fleet/events.js'
import { fleetKeys } from '../src/fleet/keys.js'
import {
  acquireLease,
  keepLease,
  readLease,
  releaseLease,
  renewLease,
  type Lease,
  type LeaseKeeper,
} from '../src/fleet/lease.js'
import {
  joinFleet,
  listMembers,
  MEMBER_EXPIRY_MS,
  writeHeartbeat,
  type FleetMembership,
  type MemberRecord,
} from '../src/fleet/membership.js'
import { planMember } from '../src/fleet/plan.js'
import { transitionBound } from '../src/fleet/shares.js'
import {
  parseFleetSpec,
  readDecisions,
  readFleetFormation,
  resolveFleetTargets,
  StaleGenerationError,
  updateFleetFormation,
  writeDecision,
} from '../src/fleet/store.js'

let server: RedisServer
let redis: Redis
usePrivateRedis((started, client) => {
  server = started
  redis = client
})

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

function connect(port = server.port, name?: string): Redis {
  const client = new Redis(port, '127.0.0.1', { connectionName: name })
  client.on('error', () => undefined)
  cleanups.push(() => client.disconnect())
  return client
}

async function join(
  client: Redis,
  fleet: string,
  options: Parameters<typeof joinFleet>[2],
): Promise<FleetMembership> {
  const membership = await joinFleet(client, fleet, options)
  cleanups.push(() => membership.leave().catch(() => undefined))
  return membership
}

function keep(client: Redis, fleet: string, holder: string): LeaseKeeper {
  const keeper = keepLease(client, fleet, holder)
  cleanups.push(() => keeper.stop().catch(() => undefined))
  return keeper
}

function record(id: string, beatAt: number): MemberRecord {
  return { id, host: 'test', pid: 1, weight: 1, startedAt: beatAt, beatAt, running: {} }
}

async function collectEvents(fleet: string): Promise<FleetEvent[]> {
  const events: FleetEvent[] = []
  const subscription = await subscribeFleetEvents(redis, fleet, (event) => events.push(event))
  cleanups.push(() => subscription.close())
  return events
}

// A TCP relay to Redis that can be cut (every connection dropped, new ones refused) and restored.
async function startProxy(
  targetPort: number,
): Promise<{ port: number; cut: () => Promise<void>; restore: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  let listener: net.Server | undefined
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const created = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1')
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on('error', () => undefined)
          socket.on('close', () => {
            sockets.delete(socket)
            client.destroy()
            upstream.destroy()
          })
        }
        client.pipe(upstream).pipe(client)
      })
      created.once('error', reject)
      created.listen(port, '127.0.0.1', () => {
        listener = created
        resolve((created.address() as net.AddressInfo).port)
      })
    })
  const port = await listen(0)
  const cut = async () => {
    await new Promise<void>((resolve) => {
      if (!listener) return resolve()
      listener.close(() => resolve())
      listener = undefined
      for (const socket of sockets) socket.destroy()
    })
  }
  cleanups.push(cut)
  return { port, cut, restore: async () => void (await listen(port)) }
}

describe('membership', () => {
  it('lists live members sorted by id, whatever order they joined in', async () => {
    const now = Date.now()
    for (const id of ['web-3', 'web-1', 'web-2']) await writeHeartbeat(redis, 'batch', record(id, now))
    expect((await listMembers(redis, 'batch')).map((member) => member.id)).toEqual([
      'web-1',
      'web-2',
      'web-3',
    ])
    expect(await listMembers(redis, 'other')).toEqual([])
  })

  it('keeps the member key under the documented name with an expiry of about 5 s', async () => {
    await writeHeartbeat(redis, 'batch', record('web-1', Date.now()))
    const key = fleetKeys('batch').member('web-1')
    expect(key).toBe('rpd:fleet:batch:member:web-1')
    const ttl = await redis.pttl(key)
    expect(ttl).toBeGreaterThan(MEMBER_EXPIRY_MS - 1000)
    expect(ttl).toBeLessThanOrEqual(MEMBER_EXPIRY_MS)
    expect(JSON.parse((await redis.get(key))!)).toMatchObject({ host: 'test', pid: 1, weight: 1 })
  })

  it('drops a member that stops beating within 5 s of its last beat, and not long before', async () => {
    const watcher = await join(connect(), 'batch', { id: 'watcher' })
    const memberClient = connect()
    const member = await join(memberClient, 'batch', { id: 'quiet', weight: 2 })
    await waitFor(() => watcher.members().some((m) => m.id === 'quiet'), 'watcher to see the member')
    expect(member.reachable()).toBe(true)
    // Its connection goes for good: no more beats, no clean leave.
    memberClient.disconnect()
    const lastBeat = (await listMembers(redis, 'batch')).find((m) => m.id === 'quiet')!.beatAt
    let lastSeen = lastBeat
    await waitFor(
      async () => {
        const listed = await listMembers(redis, 'batch')
        if (listed.some((m) => m.id === 'quiet')) lastSeen = Date.now()
        return !listed.some((m) => m.id === 'quiet')
      },
      'the quiet member to expire',
      MEMBER_EXPIRY_MS + 2000,
    )
    expect(lastSeen - lastBeat).toBeLessThanOrEqual(MEMBER_EXPIRY_MS + 100)
    expect(lastSeen - lastBeat).toBeGreaterThan(MEMBER_EXPIRY_MS - 1500)
    await waitFor(() => !watcher.members().some((m) => m.id === 'quiet'), 'the watcher to drop it', 2500)
    expect(await redis.zrange(fleetKeys('batch').members, 0, -1)).toEqual(['watcher'])
  })

  it('announces a join and a leave so the others recompute without waiting for a poll', async () => {
    const events = await collectEvents('batch')
    const seen: string[][] = []
    // Polls an hour apart: only the events can tell the watcher.
    const watcher = await join(connect(), 'batch', {
      id: 'watcher',
      pollIntervalMs: 3_600_000,
      onMembers: (members) => seen.push(members.map((m) => m.id)),
    })
    const newcomer = await joinFleet(connect(), 'batch', { id: 'newcomer', pollIntervalMs: 3_600_000 })
    await waitFor(
      () => watcher.members().some((m) => m.id === 'newcomer'),
      'the join to reach the watcher',
      3000,
    )
    await waitFor(() => events.some((e) => e.type === 'join' && e.id === 'newcomer'), 'a join event')
    await newcomer.leave()
    await waitFor(
      () => !watcher.members().some((m) => m.id === 'newcomer'),
      'the leave to reach the watcher',
      3000,
    )
    expect(events).toContainEqual({ type: 'leave', id: 'newcomer' })
    expect(seen.at(-1)).toEqual(['watcher'])
    expect(seen).toContainEqual(['newcomer', 'watcher'])
  })

  it('sends what the member runs with its beat', async () => {
    const member = await join(connect(), 'batch', { id: 'web-1', beatIntervalMs: 100 })
    member.setRunning({ images: 3 })
    await waitFor(
      async () => (await listMembers(redis, 'batch'))[0]?.running.images === 3,
      'the running count in the member record',
    )
  })

  it('reconnects after CLIENT KILL of its connection and keeps beating', async () => {
    const client = connect(server.port, 'rpd-fleet-web-1')
    await join(client, 'batch', { id: 'web-1' })
    const connectionId = async () => {
      const line = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'normal'))
        .split('\n')
        .find((entry: string) => entry.includes('name=rpd-fleet-web-1 '))
      return line ? /id=(\d+)/.exec(line)![1] : undefined
    }
    const before = await waitFor(connectionId, 'the member connection')
    expect(await redis.client('KILL', 'ID', before)).toBe(1)
    const after = await waitFor(async () => {
      const id = await connectionId()
      return id !== before && id
    }, 'the member to reconnect')
    expect(after).not.toBe(before)
    const killedAt = Date.now()
    await waitFor(
      async () => ((await listMembers(redis, 'batch'))[0]?.beatAt ?? 0) > killedAt,
      'a beat after the reconnect',
    )
  })

  it('a member cut off from Redis drops out, knows it, and rejoins when Redis is back', async () => {
    const proxy = await startProxy(server.port)
    const events = await collectEvents('batch')
    const watcher = await join(connect(), 'batch', { id: 'watcher' })
    const member = await join(connect(proxy.port), 'batch', { id: 'remote' })
    await waitFor(() => watcher.members().some((m) => m.id === 'remote'), 'the remote member to join')
    await proxy.cut()
    await waitFor(() => !watcher.members().some((m) => m.id === 'remote'), 'the watcher to drop it', 10_000)
    await waitFor(() => !member.reachable(), 'the member to know it is cut off', 3000)
    const joinsBefore = events.filter((e) => e.type === 'join' && e.id === 'remote').length
    await proxy.restore()
    await waitFor(() => watcher.members().some((m) => m.id === 'remote'), 'the member to rejoin', 10_000)
    expect(member.reachable()).toBe(true)
    await waitFor(
      () => events.filter((e) => e.type === 'join' && e.id === 'remote').length > joinsBefore,
      'a second join event',
    )
  }, 40_000)
})

describe('lease', () => {
  it('goes to exactly one of many concurrent acquirers', async () => {
    const clients = Array.from({ length: 8 }, () => connect())
    const results = await Promise.all(
      clients.map((client, i) => acquireLease(client, 'batch', `m${i}`, 5000)),
    )
    const winners = results.filter((lease): lease is Lease => lease !== undefined)
    expect(winners).toHaveLength(1)
    expect(await readLease(redis, 'batch')).toMatchObject({
      holder: winners[0]!.holder,
      token: winners[0]!.token,
    })
    expect(await redis.get(fleetKeys('batch').leaseToken)).toBe(String(winners[0]!.token))
  })

  it('renews only for its holder, and releases only for its holder', async () => {
    const lease = (await acquireLease(redis, 'batch', 'a', 1500))!
    expect(lease.token).toBe(1)
    const impostor: Lease = { holder: 'b', token: lease.token }
    expect(await renewLease(redis, 'batch', impostor, 60_000)).toBe(false)
    expect(await renewLease(redis, 'batch', { ...lease, token: 99 }, 60_000)).toBe(false)
    expect((await readLease(redis, 'batch'))!.ttlMs).toBeLessThanOrEqual(1500)
    expect(await renewLease(redis, 'batch', lease, 60_000)).toBe(true)
    expect((await readLease(redis, 'batch'))!.ttlMs).toBeGreaterThan(50_000)
    expect(await releaseLease(redis, 'batch', impostor)).toBe(false)
    expect(await releaseLease(redis, 'batch', lease)).toBe(true)
    expect(await readLease(redis, 'batch')).toBeUndefined()
    const next = (await acquireLease(redis, 'batch', 'b', 1500))!
    expect(next.token).toBe(2)
  })

  it('reports the end of its hold on time by a clock that runs behind its timers', async () => {
    // The keeper's clock runs at 0.9 of the timers' pace, so its expiry timer fires before the hold ends by
    // that clock; no renewal comes (renewMs is far away) to notice instead.
    const origin = Date.now()
    const slow = () => origin + (Date.now() - origin) * 0.9
    const changes: (Lease | undefined)[] = []
    const keeper = keepLease(connect(), 'batch', 'a', {
      ttlMs: 300,
      renewMs: 60_000,
      now: slow,
      onChange: (l) => changes.push(l),
    })
    cleanups.push(() => keeper.stop())
    await waitFor(() => changes.length === 1, 'the keeper to take the lease')
    await waitFor(() => changes.length === 2, 'the keeper to report the hold over', 3000)
    expect(changes[1]).toBeUndefined()
  })

  it('a keeper holds the lease past its ttl by renewing it', async () => {
    const changes: (Lease | undefined)[] = []
    const keeper = keepLease(connect(), 'batch', 'a', {
      ttlMs: 600,
      renewMs: 150,
      onChange: (l) => changes.push(l),
    })
    cleanups.push(() => keeper.stop())
    const held = await waitFor(() => keeper.current(), 'the keeper to take the lease')
    const firstSeen = Date.now()
    // Three ttls later the same token still holds it.
    await waitFor(
      async () => Date.now() - firstSeen > 1800 && (await readLease(redis, 'batch')),
      'time to pass',
      5000,
    )
    expect(await readLease(redis, 'batch')).toMatchObject({ holder: 'a', token: held.token })
    expect(keeper.current()).toEqual(held)
    expect(changes).toEqual([held])
    await keeper.stop()
    expect(await readLease(redis, 'batch')).toBeUndefined()
    expect(changes).toEqual([held, undefined])
  })

  it('moves to another member within 10 s when the holder dies', async () => {
    const clientA = connect()
    const a = keep(clientA, 'batch', 'a')
    const first = await waitFor(() => a.current(), 'a to take the lease')
    const b = keep(connect(), 'batch', 'b')
    expect(b.current()).toBeUndefined()
    // a's connection is gone for good: no renewals, no release.
    clientA.disconnect()
    const diedAt = Date.now()
    const taken = await waitFor(() => b.current(), 'b to take over', 10_000)
    expect(Date.now() - diedAt).toBeLessThan(10_000)
    expect(taken.token).toBeGreaterThan(first.token)
    // By its own clock a no longer believes it holds the lease.
    await waitFor(() => a.current() === undefined, 'a to give up', 2000)
  }, 20_000)

  it('a cut-off holder stops deciding before another member takes over', async () => {
    const proxy = await startProxy(server.port)
    const changes: (Lease | undefined)[] = []
    const a = keepLease(connect(proxy.port), 'batch', 'a', { onChange: (lease) => changes.push(lease) })
    cleanups.push(() => a.stop().catch(() => undefined))
    await waitFor(() => changes.length === 1, 'a to take the lease')
    const b = keep(connect(), 'batch', 'b')
    await proxy.cut()
    const cutAt = Date.now()
    let overlap = false
    await waitFor(
      async () => {
        const bHolds = b.current() !== undefined
        // Only the callback speaks for a: asking a.current() would check its clock on its behalf. On a loaded
        // machine this check can run in the same pass as a's expiry timer and before it, though that timer was
        // due first; a timer due 10 ms from now runs after every timer already due.
        if (bHolds && changes.length === 1) {
          await new Promise((resolve) => setTimeout(resolve, 10))
          if (changes.length === 1) overlap = true
        }
        return bHolds
      },
      'b to take over',
      10_000,
      20,
    )
    expect(Date.now() - cutAt).toBeLessThan(10_000)
    expect(overlap).toBe(false)
    expect(changes).toEqual([changes[0], undefined])
    expect(a.current()).toBeUndefined()
  }, 20_000)
})

describe('decisions', () => {
  it('rejects a stale fencing token so a paused ex-holder cannot overwrite', async () => {
    const old = (await acquireLease(redis, 'batch', 'a', 300))!
    expect(await writeDecision(redis, 'batch', old, { mail: 4 }, 1000)).toBe(true)
    await waitFor(async () => !(await readLease(redis, 'batch')), 'the old lease to expire')
    const current = (await acquireLease(redis, 'batch', 'b', 10_000))!
    expect(current.token).toBeGreaterThan(old.token)
    expect(await writeDecision(redis, 'batch', old, { mail: 19 }, 2000)).toBe(false)
    expect(await writeDecision(redis, 'batch', current, { mail: 7 }, 3000)).toBe(true)
    // Same holder name, old token: still refused.
    expect(await writeDecision(redis, 'batch', { holder: 'b', token: old.token }, { mail: 1 }, 4000)).toBe(
      false,
    )
    expect(await readDecisions(redis, 'batch')).toEqual({
      mail: { count: 7, holder: 'b', token: current.token, decidedAt: 3000 },
    })
  })

  it('refuses a decision when nobody holds the lease', async () => {
    expect(await writeDecision(redis, 'batch', { holder: 'a', token: 1 }, { mail: 2 }, 0)).toBe(false)
    expect(await readDecisions(redis, 'batch')).toEqual({})
  })

  it('announces a decision with who made it', async () => {
    const events = await collectEvents('batch')
    const lease = (await acquireLease(redis, 'batch', 'web-2'))!
    await writeDecision(redis, 'batch', lease, { mail: 3 }, 5)
    await waitFor(() => events.length > 0, 'the decision event')
    expect(events).toEqual([{ type: 'decision', holder: 'web-2', token: lease.token }])
  })
})

describe('fleet formation', () => {
  it('keeps counts and ranges as written, with a generation per change', async () => {
    expect(await readFleetFormation(redis, 'batch')).toEqual({ generation: 0, groups: {} })
    await updateFleetFormation(redis, 'batch', { images: 12, mail: '0..20' })
    const formation = await updateFleetFormation(redis, 'batch', { images: '3' })
    expect(formation).toEqual({ generation: 2, groups: { images: '3', mail: '0..20' } })
    expect(await redis.hgetall('rpd:fleet:batch:formation')).toEqual({ images: '3', mail: '0..20' })
    expect((await updateFleetFormation(redis, 'batch', { images: null })).groups).toEqual({ mail: '0..20' })
  })

  it('refuses bad specs and group names without writing anything', async () => {
    await expect(updateFleetFormation(redis, 'batch', { images: '20..3' })).rejects.toThrow(/bad fleet spec/)
    await expect(updateFleetFormation(redis, 'batch', { images: 'lots' })).rejects.toThrow(/bad fleet spec/)
    await expect(updateFleetFormation(redis, 'batch', { 'a b': 1 })).rejects.toThrow(/bad group name/)
    expect(await readFleetFormation(redis, 'batch')).toEqual({ generation: 0, groups: {} })
  })

  it('loses nothing when two writers change it at once', async () => {
    const writers = [connect(), connect()]
    await Promise.all(
      writers.map(async (client, w) => {
        const pending: Promise<unknown>[] = []
        for (let i = 0; i < 50; i++)
          pending.push(updateFleetFormation(client, 'batch', { [`w${w}-g${i}`]: i }))
        await Promise.all(pending)
      }),
    )
    const formation = await readFleetFormation(redis, 'batch')
    expect(formation.generation).toBe(100)
    expect(Object.keys(formation.groups)).toHaveLength(100)
    expect(formation.groups['w0-g49']).toBe('49')
    expect(formation.groups['w1-g7']).toBe('7')
  })

  it('compare-and-set refuses a writer that read an older generation', async () => {
    const read = await updateFleetFormation(redis, 'batch', { images: 2 })
    await updateFleetFormation(redis, 'batch', { mail: 1 })
    const stale = updateFleetFormation(redis, 'batch', { images: 9 }, { expectGeneration: read.generation })
    await expect(stale).rejects.toBeInstanceOf(StaleGenerationError)
    expect((await readFleetFormation(redis, 'batch')).groups.images).toBe('2')
    const fresh = await updateFleetFormation(redis, 'batch', { images: 9 }, { expectGeneration: 2 })
    expect(fresh).toEqual({ generation: 3, groups: { images: '9', mail: '1' } })
  })

  it('announces each change with its generation', async () => {
    const events = await collectEvents('batch')
    await updateFleetFormation(redis, 'batch', { images: 1 })
    await updateFleetFormation(redis, 'batch', { images: 2 })
    await waitFor(() => events.length === 2, 'two formation events')
    expect(events).toEqual([
      { type: 'formation', generation: 1 },
      { type: 'formation', generation: 2 },
    ])
  })
})

describe('fleet targets', () => {
  it('parses counts and ranges', () => {
    expect(parseFleetSpec('12')).toEqual({ kind: 'fixed', count: 12 })
    expect(parseFleetSpec('0..20')).toEqual({ kind: 'range', min: 0, max: 20 })
    expect(parseFleetSpec('4..4')).toEqual({ kind: 'range', min: 4, max: 4 })
    for (const bad of ['', '-1', '1.5', '3..1', '..4', '1..', 'x'])
      expect(() => parseFleetSpec(bad)).toThrow()
  })

  it('takes fixed counts as written and clamps decisions into their range', () => {
    const decision = (count: number) => ({ count, holder: 'a', token: 1, decidedAt: 0 })
    expect(
      resolveFleetTargets(
        { images: '12', mail: '0..20', low: '2..5', high: '0..3', fresh: '1..9' },
        { mail: decision(7), low: decision(0), high: decision(10), images: decision(1) },
      ),
    ).toEqual({ images: 12, mail: 7, low: 2, high: 3, fresh: 1 })
  })

  it('ignores messages on the channel that are not fleet events', () => {
    expect(parseFleetEvent('hello')).toBeUndefined()
    expect(parseFleetEvent('{"no":"type"}')).toBeUndefined()
    expect(parseFleetEvent('{"type":"join","id":"a"}')).toEqual({ type: 'join', id: 'a' })
  })
})

// A member as a master would drive it, with worker counts standing in for workers: every 100 ms it
// reads the formation and applies planMember to what it last listed.
interface SimulatedMember {
  id: string
  running: Record<string, number>
  kill: () => void
}

async function startSimulatedMember(id: string): Promise<SimulatedMember> {
  const client = connect()
  const membership = await joinFleet(client, 'batch', { id })
  const member: SimulatedMember = { id, running: {}, kill: () => undefined }
  let alive = true
  const loop = async () => {
    while (alive) {
      try {
        const formation = await readFleetFormation(client, 'batch')
        const targets = resolveFleetTargets(formation.groups, await readDecisions(client, 'batch'))
        const plan = planMember({
          selfId: id,
          members: membership.members(),
          targets,
          running: member.running,
        })
        member.running = plan.counts
        membership.setRunning(member.running)
      } catch {
        // Redis away: keep what runs.
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const done = loop()
  // SIGKILL stands-in: the loop stops, the connection goes, and its workers go with it.
  member.kill = () => {
    alive = false
    client.disconnect()
    member.running = {}
  }
  cleanups.push(async () => {
    alive = false
    await done
    await membership.leave().catch(() => undefined)
  })
  return member
}

describe('a fleet of members', () => {
  it('splits 7 as 3/2/2, covers a killed member within 10 s, and stays within the bound as it rejoins', async () => {
    await updateFleetFormation(redis, 'batch', { images: 7 })
    const members = [
      await startSimulatedMember('m1'),
      await startSimulatedMember('m2'),
      await startSimulatedMember('m3'),
    ]
    const total = (list: SimulatedMember[]) => list.reduce((sum, m) => sum + (m.running.images ?? 0), 0)
    await waitFor(
      () => members.map((m) => m.running.images ?? 0).join('/') === '3/2/2',
      'the fleet to settle at 3/2/2',
      15_000,
    )
    members[0]!.kill()
    const survivors = members.slice(1)
    const killedAt = Date.now()
    await waitFor(() => total(survivors) === 7, 'the survivors to run 7', 10_000)
    expect(Date.now() - killedAt).toBeLessThan(10_000)
    expect(survivors.map((m) => m.running.images)).toEqual([4, 3])

    const rejoined = await startSimulatedMember('m1')
    const fleet = [rejoined, ...survivors]
    const bound = transitionBound('images', 7, { m1: { images: 3 }, m2: { images: 4 }, m3: { images: 3 } })
    let peak = 0
    await waitFor(
      () => {
        peak = Math.max(peak, total(fleet))
        return fleet.map((m) => m.running.images ?? 0).join('/') === '3/2/2'
      },
      'the fleet to settle at 3/2/2 again',
      15_000,
      100,
    )
    expect(peak).toBeLessThanOrEqual(bound)
    expect(total(fleet)).toBe(7)
  }, 45_000)
})
