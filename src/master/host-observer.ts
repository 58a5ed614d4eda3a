import type { HostReading, RssSample } from '../autoscale/guards.js'
import { readHost, readTreeSamples } from '../autoscale/host-readings.js'

export const HOST_SAMPLE_INTERVAL_MS = 1_000

export interface HostObservation {
  at: number
  reading: HostReading | undefined
  rss: RssSample[]
}

// Reads the host's load and memory (and each worker's process-tree memory, when asked) on its own timer and posts what it
// read to the master's loop; it decides nothing.
export class HostObserver {
  private timer?: NodeJS.Timeout
  private pids: readonly number[] = []
  private rss = false

  constructor(
    private readonly post: (observation: HostObservation) => void,
    private readonly intervalMs = HOST_SAMPLE_INTERVAL_MS,
  ) {}

  // Which workers' trees to measure (none: host only); starting it the first time.
  watch(pids: readonly number[], rss: boolean): void {
    this.pids = pids
    this.rss = rss
    if (!this.timer) this.schedule(0)
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(delayMs = this.intervalMs): void {
    this.timer = setTimeout(() => void this.sample(), delayMs)
  }

  private async sample(): Promise<void> {
    const at = Date.now()
    const [reading, rss] = await Promise.all([readHost(at), this.rss ? readTreeSamples(this.pids) : []])
    if (!this.timer) return
    this.post({ at, reading, rss })
    this.schedule()
  }
}
