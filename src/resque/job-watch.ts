import type { Redis } from 'ioredis'
import { describeRedisError } from './redis-client.js'
import type { ResqueKeys } from './keys.js'

// Redis pushes invalidations of tracked keys here (RESP2: as Pub/Sub messages to the redirect connection).
const INVALIDATE_CHANNEL = '__redis__:invalidate'
const GLOB_START = /[*?{}[\]\\]/

export interface JobWatchEvents {
  // A watched queue was written to: a job may be waiting.
  wake: () => void
  say: (line: string) => void
}

// The key prefixes that cover a worker's queues: `resque:queue:foo` for foo, `resque:queue:` for `*`, the literal
// start of any other glob. Redis refuses overlapping prefixes, so one that another covers is left out.
export function watchedPrefixes(keys: ResqueKeys, patterns: readonly string[]): string[] {
  const prefixes = [...new Set(patterns.map((pattern) => keys.queue(pattern.split(GLOB_START)[0])))].sort()
  return prefixes.filter((prefix, i) => !prefixes.slice(0, i).some((kept) => prefix.startsWith(kept)))
}

// Wakes an idle worker the moment one of its queues is written to, with no polling: Redis client-side tracking in
// broadcast mode (CLIENT TRACKING ON BCAST PREFIX ... NOLOOP) sends an invalidation for every write under the
// prefixes, whoever writes (Ruby's RPUSH included). It is on only while the worker waits, so a busy pool costs
// Redis nothing. The wake only says "look again": the job is still taken by the atomic reserve, in priority order.
export class JobWatch {
  // Counts invalidations: a worker compares it before and after a check to know whether to sleep.
  wakes = 0
  private subscriber?: Redis
  private subscriberId?: number
  private on = false
  private unsupported = false
  private closed = false

  constructor(
    private readonly redis: Redis,
    private readonly keys: ResqueKeys,
    private readonly patterns: readonly string[],
    private readonly events: JobWatchEvents,
  ) {
    // A new connection starts without tracking.
    redis.on('ready', () => (this.on = false))
  }

  // Turns tracking on; true when it was off (the caller checks the queues once more: a job pushed before now
  // sent no invalidation). False when it was on already or Redis cannot track (then the caller polls).
  async start(): Promise<boolean> {
    if (this.on || this.unsupported || this.closed) return false
    try {
      const id = await this.subscribe()
      await this.redis.client(
        'TRACKING',
        'ON',
        'REDIRECT',
        id,
        'BCAST',
        'NOLOOP',
        ...watchedPrefixes(this.keys, this.patterns).flatMap((prefix) => ['PREFIX', prefix]),
      )
      this.on = true
      return true
    } catch (error) {
      // Redis before 6 has no tracking: poll at INTERVAL as Resque does.
      if (/unknown (sub)?command|syntax error|wrong number/i.test(String((error as Error)?.message))) {
        this.unsupported = true
        this.events.say(`Redis cannot track keys (${describeRedisError(error)}); polling every INTERVAL`)
      }
      return false
    }
  }

  // Off while the worker is busy: every reserve would otherwise send invalidations to every watcher.
  pause(): void {
    if (!this.on) return
    this.on = false
    this.redis.client('TRACKING', 'OFF').catch(() => undefined)
  }

  async stop(): Promise<void> {
    if (!this.on) return
    this.on = false
    await this.redis.client('TRACKING', 'OFF').catch(() => undefined)
  }

  // Tracking is on: a write to the queues will wake the worker.
  get watching(): boolean {
    return this.on
  }

  close(): void {
    this.closed = true
    this.subscriber?.disconnect()
    this.subscriber = undefined
  }

  // The connection invalidations arrive on; made again if it was lost (tracking then has to be redirected anew).
  private async subscribe(): Promise<number> {
    if (this.subscriber && this.subscriberId !== undefined) return this.subscriberId
    const subscriber = this.redis.duplicate({
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    })
    subscriber.on('error', () => undefined)
    subscriber.on('message', () => {
      this.wakes += 1
      this.events.wake()
    })
    subscriber.on('close', () => {
      if (this.subscriber !== subscriber) return
      this.subscriber = undefined
      this.subscriberId = undefined
      // Tracking still points at the lost connection: turned off, it is turned on again at the next wait.
      if (this.on) this.pause()
    })
    this.subscriber = subscriber
    try {
      await subscriber.connect()
      const id = Number(await subscriber.client('ID'))
      await subscriber.subscribe(INVALIDATE_CHANNEL)
      if (this.closed) subscriber.disconnect()
      this.subscriberId = id
      return id
    } catch (error) {
      subscriber.disconnect()
      if (this.subscriber === subscriber) this.subscriber = undefined
      throw error
    }
  }
}
