import type { Redis } from 'ioredis'
import { fleetKeys } from './keys.js'

// A holder that dies is replaced within LEASE_TTL_MS + LEASE_RETRY_MS (7 s, inside the 10 s promise).
export const LEASE_TTL_MS = 6000
export const LEASE_RENEW_MS = 2000
export const LEASE_RETRY_MS = 1000

export interface Lease {
  holder: string
  // Fencing token: grows with every acquisition, so a later holder always carries a larger one.
  token: number
}

export interface LeaseState extends Lease {
  ttlMs: number
}

// The token is drawn only when the lease is free, so tokens count acquisitions, not attempts.
const ACQUIRE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])
return token
`

const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

function checkHolder(holder: string): void {
  if (!holder || /[\s]/.test(holder)) throw new RangeError(`bad lease holder ${JSON.stringify(holder)}`)
}

export function formatLeaseValue(lease: Lease): string {
  return `${lease.token}:${lease.holder}`
}

export function parseLeaseValue(value: string): Lease | undefined {
  const match = /^(\d+):(.+)$/.exec(value)
  return match ? { token: Number(match[1]), holder: match[2]! } : undefined
}

export async function acquireLease(
  redis: Redis,
  fleet: string,
  holder: string,
  ttlMs: number = LEASE_TTL_MS,
): Promise<Lease | undefined> {
  checkHolder(holder)
  const keys = fleetKeys(fleet)
  const token = (await redis.eval(ACQUIRE_LUA, 2, keys.lease, keys.leaseToken, holder, ttlMs)) as
    number | null
  return token === null ? undefined : { holder, token }
}

// Extends the lease only while this holder, with this token, still owns it.
export async function renewLease(
  redis: Redis,
  fleet: string,
  lease: Lease,
  ttlMs: number = LEASE_TTL_MS,
): Promise<boolean> {
  const renewed = await redis.eval(RENEW_LUA, 1, fleetKeys(fleet).lease, formatLeaseValue(lease), ttlMs)
  return renewed === 1
}

export async function releaseLease(redis: Redis, fleet: string, lease: Lease): Promise<boolean> {
  const released = await redis.eval(RELEASE_LUA, 1, fleetKeys(fleet).lease, formatLeaseValue(lease))
  return released === 1
}

export async function readLease(redis: Redis, fleet: string): Promise<LeaseState | undefined> {
  const key = fleetKeys(fleet).lease
  const [value, ttlMs] = await Promise.all([redis.get(key), redis.pttl(key)])
  const lease = value === null ? undefined : parseLeaseValue(value)
  return lease ? { ...lease, ttlMs } : undefined
}

export interface KeepLeaseOptions {
  ttlMs?: number
  renewMs?: number
  retryMs?: number
  now?: () => number
  // Called when this member gains the lease (with it) or loses it (undefined).
  onChange?: (lease: Lease | undefined) => void
  onError?: (error: unknown) => void
}

export interface LeaseKeeper {
  // The lease while this member can be sure it holds it: renewed less than a ttl ago by its own clock.
  current: () => Lease | undefined
  stop: () => Promise<void>
}

// Tries for the lease every retryMs and renews it every renewMs once held. A renewal that fails or
// cannot reach Redis in time ends the hold by the local clock, so a cut-off holder stops deciding
// before the lease can pass to another member.
export function keepLease(
  redis: Redis,
  fleet: string,
  holder: string,
  options: KeepLeaseOptions = {},
): LeaseKeeper {
  checkHolder(holder)
  const ttlMs = options.ttlMs ?? LEASE_TTL_MS
  const renewMs = options.renewMs ?? LEASE_RENEW_MS
  const retryMs = options.retryMs ?? LEASE_RETRY_MS
  const now = options.now ?? Date.now
  let held: Lease | undefined
  let validUntil = 0
  let timer: NodeJS.Timeout | undefined
  let expiryTimer: NodeJS.Timeout | undefined
  let stopped = false

  const change = (next: Lease | undefined) => {
    if (next?.token === held?.token) return
    held = next
    options.onChange?.(next)
  }

  const current = () => {
    if (held && now() >= validUntil) change(undefined)
    return held
  }

  // Reports the loss on time even while a renewal hangs on an unreachable Redis. A timer can fire a little
  // before its time by this clock (the loop's clock it was armed on ran behind): then it is armed again for
  // the rest, or the loss would go unreported until the next step.
  const expire = () => {
    if (held && now() < validUntil) arm()
    else current()
  }
  const arm = () => {
    if (expiryTimer) clearTimeout(expiryTimer)
    expiryTimer = setTimeout(expire, Math.max(1, validUntil - now()))
    expiryTimer.unref()
  }
  const holdUntil = (until: number) => {
    validUntil = until
    arm()
  }

  const step = async () => {
    const startedAt = now()
    try {
      if (current()) {
        if (await renewLease(redis, fleet, held!, ttlMs)) holdUntil(startedAt + ttlMs)
        else change(undefined)
      } else {
        const lease = await acquireLease(redis, fleet, holder, ttlMs)
        // Won while stopping: hand it straight back rather than leave it idle for a ttl.
        if (lease && stopped) await releaseLease(redis, fleet, lease)
        else if (lease) {
          holdUntil(startedAt + ttlMs)
          change(lease)
        }
      }
    } catch (error) {
      options.onError?.(error)
    }
    if (!stopped) schedule(current() ? renewMs : retryMs)
  }

  const schedule = (delayMs: number) => {
    timer = setTimeout(() => void step(), delayMs)
    timer.unref()
  }

  void step()
  return {
    current,
    stop: async () => {
      stopped = true
      if (timer) clearTimeout(timer)
      if (expiryTimer) clearTimeout(expiryTimer)
      const lease = held
      change(undefined)
      // A step still waiting on Redis cannot renew a released lease: the script finds it gone.
      if (!lease) return
      // Redis unreachable: the lease lapses by itself within a ttl, so waiting longer gains nothing.
      let giveUp: NodeJS.Timeout | undefined
      await Promise.race([
        releaseLease(redis, fleet, lease).catch(options.onError),
        new Promise((resolve) => {
          giveUp = setTimeout(resolve, ttlMs)
        }),
      ])
      clearTimeout(giveUp)
    },
  }
}
