import type { Redis } from 'ioredis'
import { errorMessage } from '../errors.js'
import { redisTlsOptions } from '../proc/extra-ca.js'
import type { GroupReading, QueueSampler, SampleTarget } from '../resque/sample-queues.js'

// How often the master samples its queues for automatic groups: on average; each gap is drawn from
// ±SAMPLE_JITTER of it. Fixed gaps would lock onto work that comes on a clock (a job enqueued every 500 ms
// and sampled every 1,000 ms is seen at the same point of its run every time), and the busy count, and with
// it the measured job time, would be read as always busy or always idle.
export const SAMPLE_INTERVAL_MS = 1_000
export const SAMPLE_JITTER = 0.2

// The wait before the next sample, given how long this one took; random is uniform in [0, 1).
export function nextSampleDelay(intervalMs: number, tookMs: number, random: number): number {
  const gap = intervalMs * (1 - SAMPLE_JITTER + 2 * SAMPLE_JITTER * random)
  return Math.max(0, Math.round(gap - tookMs))
}

export type Observation = { at: number; readings: Map<string, GroupReading> } | { at: number; error: string }

// Samples Resque's Redis on its own timer and posts what it read to the master's loop; it decides nothing
// and touches no master state. ioredis is loaded only for pools that sample.
export class Observer {
  private targets: readonly SampleTarget[] = []
  private timer?: NodeJS.Timeout
  private sampler?: QueueSampler
  private redis?: Redis
  private stopped = false
  private inFlight = false

  constructor(
    private readonly redisUrl: string,
    private readonly namespace: string,
    private readonly post: (observation: Observation) => void,
    private readonly intervalMs = SAMPLE_INTERVAL_MS,
  ) {}

  // The groups to sample and their live workers' Resque ids; an empty list pauses sampling.
  setTargets(targets: readonly SampleTarget[]): void {
    const idle = this.targets.length === 0
    this.targets = targets
    if (idle && targets.length && !this.timer && !this.inFlight) this.schedule(0)
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.redis?.disconnect()
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.targets.length === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.sample()
    }, delayMs)
  }

  private async sample(): Promise<void> {
    const began = Date.now()
    this.inFlight = true
    try {
      const sampler = await this.connect()
      const readings = await sampler.read(this.targets)
      if (!this.stopped) this.post({ at: Date.now(), readings })
    } catch (error) {
      if (!this.stopped) this.post({ at: Date.now(), error: errorMessage(error) })
    } finally {
      this.inFlight = false
    }
    this.schedule(nextSampleDelay(this.intervalMs, Date.now() - began, Math.random()))
  }

  private async connect(): Promise<QueueSampler> {
    if (this.sampler) return this.sampler
    const [{ Redis }, { QueueSampler }] = await Promise.all([
      import('ioredis'),
      import('../resque/sample-queues.js'),
    ])
    // Commands fail at once while Redis is away (a missed sample holds the counts); it reconnects by itself.
    this.redis = new Redis(this.redisUrl, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: 2_000,
      commandTimeout: 2_000,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
      disableClientInfo: true,
      ...redisTlsOptions(this.redisUrl),
    })
    this.redis.on('error', () => undefined)
    // The first sample waits for the connection (a sample sent while connecting would just fail).
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(done, 2_000)
      this.redis!.once('ready', done)
    })
    this.sampler = new QueueSampler(this.redis, this.namespace)
    return this.sampler
  }
}
