import { errorMessage } from '../errors.js'
import type { Formation } from '../state/formation.js'
import type { MasterCounters, StatusFile } from '../state/status-file.js'
import type { MetricsServer } from '../present/metrics-server.js'

type Direction = 'up' | 'down'

// The master's counters for Prometheus and its /metrics server. The master calls it where it decides
// (reconcile, a worker's restart, a guard's veto), so nothing is parsed back out of the log.
export class MasterMetrics {
  private readonly restarts = new Map<string, number>()
  private readonly scaleEvents = new Map<
    string,
    { group: string; direction: Direction; reason: string; count: number }
  >()
  private readonly vetoes = new Map<string, number>()
  private readonly reasons = new Map<string, string>()
  private desired?: Map<string, number>
  private server?: MetricsServer

  countRestart(group: string): void {
    this.restarts.set(group, (this.restarts.get(group) ?? 0) + 1)
  }

  countVeto(guard: string): void {
    this.vetoes.set(guard, (this.vetoes.get(guard) ?? 0) + 1)
  }

  // Why the next change of a group's desired count happens (an autoscale reason code); else it counts as manual.
  noteScaleReason(group: string, reason: string): void {
    this.reasons.set(group, reason)
  }

  countScale(group: string, direction: Direction, reason: string): void {
    const key = `${group}\n${direction}\n${reason}`
    const event = this.scaleEvents.get(key) ?? { group, direction, reason, count: 0 }
    event.count += 1
    this.scaleEvents.set(key, event)
  }

  // Called on every reconcile pass: each change of a group's desired count since the last pass is one event.
  noteFormation(formation: Formation): void {
    const previous = this.desired
    this.desired = new Map(Object.entries(formation))
    if (!previous) return
    for (const group of new Set([...previous.keys(), ...this.desired.keys()])) {
      const was = previous.get(group) ?? 0
      const now = this.desired.get(group) ?? 0
      if (was === now) continue
      this.countScale(group, now > was ? 'up' : 'down', this.reasons.get(group) ?? 'manual')
      this.reasons.delete(group)
    }
  }

  counters(): MasterCounters {
    return {
      restarts: Object.fromEntries(this.restarts),
      scaleEvents: [...this.scaleEvents.values()].map((event) => ({ ...event })),
      guardVetoes: [...this.vetoes].map(([guard, count]) => ({ guard, count })),
    }
  }

  // Starts the /metrics server when the pool asks for one; a bad address is logged and the pool runs on.
  async serve(
    listen: string | undefined,
    status: () => StatusFile,
    say: (text: string) => void,
  ): Promise<void> {
    if (!listen) return
    try {
      const { serveMetrics } = await import('../present/metrics-server.js')
      this.server = await serveMetrics(listen, () => this.render(status()))
      say(`metrics: serving ${this.server.url}`)
    } catch (error) {
      say(`metrics: ${errorMessage(error)}; running without a metrics server`)
    }
  }

  async render(status: StatusFile): Promise<string> {
    // Loaded at the first scrape: pools without metrics never load the renderer or ioredis.
    const [{ renderMetrics }, { composeMetricsSnapshot, readResqueReadingSafely }] = await Promise.all([
      import('../present/metrics.js'),
      import('../client/metrics-snapshot.js'),
    ])
    const resque = await readResqueReadingSafely(status.redis, status.namespace)
    return renderMetrics(composeMetricsSnapshot({ ...status, counters: this.counters() }, resque))
  }

  async close(): Promise<void> {
    await this.server?.close().catch(() => undefined)
    this.server = undefined
  }
}
