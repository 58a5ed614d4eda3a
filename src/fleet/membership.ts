import os from 'node:os'
import type { Redis } from 'ioredis'
import { publishFleetEvent, subscribeFleetEvents, type FleetSubscription } from './events.js'
import { fleetKeys } from './keys.js'
import { compareIds } from './shares.js'

export const BEAT_INTERVAL_MS = 1000
export const MEMBER_EXPIRY_MS = 5000
export const POLL_INTERVAL_MS = 1000

export interface MemberRecord {
  id: string
  host: string
  pid: number
  weight: number
  startedAt: number
  beatAt: number
  // Workers this member runs per group, so others grow only into room it has left.
  running: Record<string, number>
  // Busy workers per group and their Resque ids, so the lease holder can size automatic groups fleet-wide.
  busy?: Record<string, number>
  workers?: Record<string, string[]>
}

export type MemberDetail = Pick<MemberRecord, 'busy' | 'workers'>

// Returns the live members and drops, in the same atomic step, set entries whose member key expired.
const LIST_MEMBERS_LUA = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local value = redis.call('GET', ARGV[1] .. id)
  if value then
    table.insert(out, id)
    table.insert(out, value)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`

function checkMemberId(id: string): void {
  if (!/^[A-Za-z0-9_.:@-]+$/.test(id))
    throw new RangeError(`bad member id ${JSON.stringify(id)}; use letters, digits and . _ : @ -`)
}

// One beat: the member key with a fresh expiry plus its place in the set. Returns true when the key was
// absent before (a first join, or a rejoin after the member expired) and announces it.
export async function writeHeartbeat(
  redis: Redis,
  fleet: string,
  record: MemberRecord,
  expiryMs: number = MEMBER_EXPIRY_MS,
): Promise<boolean> {
  checkMemberId(record.id)
  const keys = fleetKeys(fleet)
  const results = await redis
    .multi()
    .set(keys.member(record.id), JSON.stringify(record), 'PX', expiryMs, 'GET')
    .zadd(keys.members, record.beatAt, record.id)
    .exec()
  if (!results) throw new Error(`heartbeat of ${record.id} in fleet ${fleet} was discarded`)
  const [setError, previous] = results[0]!
  if (setError) throw setError
  const joined = previous === null
  if (joined) await publishFleetEvent(redis, fleet, { type: 'join', id: record.id })
  return joined
}

function parseMember(id: string, value: string): MemberRecord | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<MemberRecord>
    if (typeof parsed.weight !== 'number' || typeof parsed.beatAt !== 'number') return undefined
    return {
      id,
      host: String(parsed.host ?? ''),
      pid: Number(parsed.pid ?? 0),
      weight: parsed.weight,
      startedAt: Number(parsed.startedAt ?? 0),
      beatAt: parsed.beatAt,
      running: parsed.running && typeof parsed.running === 'object' ? parsed.running : {},
      ...(parsed.busy && typeof parsed.busy === 'object' ? { busy: parsed.busy } : {}),
      ...(parsed.workers && typeof parsed.workers === 'object' ? { workers: parsed.workers } : {}),
    }
  } catch {
    return undefined
  }
}

// The live members, sorted by id the same way on every host.
export async function listMembers(redis: Redis, fleet: string): Promise<MemberRecord[]> {
  const keys = fleetKeys(fleet)
  const flat = (await redis.eval(LIST_MEMBERS_LUA, 1, keys.members, keys.member(''))) as string[]
  const members: MemberRecord[] = []
  for (let i = 0; i < flat.length; i += 2) {
    const member = parseMember(flat[i]!, flat[i + 1]!)
    if (member) members.push(member)
  }
  return members.sort((a, b) => compareIds(a.id, b.id))
}

// A clean exit: gone at once rather than after the expiry, and the others told.
export async function leaveFleet(redis: Redis, fleet: string, id: string): Promise<void> {
  const keys = fleetKeys(fleet)
  await redis.multi().del(keys.member(id)).zrem(keys.members, id).exec()
  await publishFleetEvent(redis, fleet, { type: 'leave', id })
}

export interface JoinOptions {
  id: string
  weight?: number
  host?: string
  pid?: number
  beatIntervalMs?: number
  expiryMs?: number
  pollIntervalMs?: number
  now?: () => number
  // Called when the set of live members or their weights change (not on every beat).
  onMembers?: (members: MemberRecord[]) => void
  // Called when a beat or a listing fails; the member keeps trying.
  onError?: (error: unknown) => void
}

export interface FleetMembership {
  readonly id: string
  // The last listing of live members.
  members: () => MemberRecord[]
  // False once no beat has reached Redis for the expiry: the others no longer count this member.
  reachable: () => boolean
  // What this member runs now, sent with the next beat.
  setRunning: (running: Record<string, number>, detail?: MemberDetail) => void
  refresh: () => Promise<MemberRecord[]>
  leave: () => Promise<void>
}

function describeMembers(members: MemberRecord[]): string {
  return members.map((member) => `${member.id}*${member.weight}`).join(',')
}

// Beats every second, lists the members on every join/leave event and at least once a second, and
// reports changes. Redis going away stops nothing here: beats and listings fail and are retried.
export async function joinFleet(redis: Redis, fleet: string, options: JoinOptions): Promise<FleetMembership> {
  checkMemberId(options.id)
  const now = options.now ?? Date.now
  const beatIntervalMs = options.beatIntervalMs ?? BEAT_INTERVAL_MS
  const expiryMs = options.expiryMs ?? MEMBER_EXPIRY_MS
  const pollIntervalMs = options.pollIntervalMs ?? POLL_INTERVAL_MS
  const startedAt = now()
  let running: Record<string, number> = {}
  let detail: MemberDetail = {}
  let lastBeatOkAt = Number.NEGATIVE_INFINITY
  let beating = false
  let listing: Promise<MemberRecord[]> | undefined
  let listAgain = false
  let known: MemberRecord[] = []
  let signature: string | undefined
  let stopped = false
  const reportError = (error: unknown) => options.onError?.(error)

  const beat = async () => {
    if (beating || stopped) return
    beating = true
    try {
      const record: MemberRecord = {
        id: options.id,
        host: options.host ?? os.hostname(),
        pid: options.pid ?? process.pid,
        weight: options.weight ?? 1,
        startedAt,
        beatAt: now(),
        running,
        ...detail,
      }
      await writeHeartbeat(redis, fleet, record, expiryMs)
      // Completion time, not send time: a beat queued through an outage leaves only when Redis is back.
      lastBeatOkAt = now()
    } catch (error) {
      reportError(error)
    } finally {
      beating = false
    }
  }

  const list = async (): Promise<MemberRecord[]> => {
    const members = await listMembers(redis, fleet)
    known = members
    const next = describeMembers(members)
    if (next !== signature) {
      signature = next
      options.onMembers?.(members)
    }
    return members
  }

  // Events arriving during a listing ask for one more listing after it, never a pile of them.
  const refresh = (): Promise<MemberRecord[]> => {
    if (listing) {
      listAgain = true
      return listing
    }
    listing = list().finally(() => {
      listing = undefined
      if (listAgain && !stopped) {
        listAgain = false
        refresh().catch(reportError)
      }
    })
    return listing
  }

  await beat()
  let subscription: FleetSubscription | undefined
  try {
    subscription = await subscribeFleetEvents(redis, fleet, (event) => {
      if (event.type === 'join' || event.type === 'leave') refresh().catch(reportError)
    })
  } catch (error) {
    reportError(error)
  }
  await refresh().catch(reportError)
  const beatTimer = setInterval(() => void beat(), beatIntervalMs)
  const pollTimer = setInterval(() => refresh().catch(reportError), pollIntervalMs)
  beatTimer.unref()
  pollTimer.unref()

  return {
    id: options.id,
    members: () => known,
    reachable: () => now() - lastBeatOkAt < expiryMs,
    setRunning: (next, nextDetail) => {
      running = { ...next }
      detail = { ...nextDetail }
    },
    refresh,
    leave: async () => {
      stopped = true
      clearInterval(beatTimer)
      clearInterval(pollTimer)
      await subscription?.close()
      await leaveFleet(redis, fleet, options.id)
    },
  }
}
