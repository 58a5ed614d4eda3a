import {
  type AutoscaleSettings,
  type AutoscaleState,
  type Decision,
  decideAutoscale,
  formatDecision,
  initialAutoscaleState,
} from '../autoscale/policy.js'
import type { Formation } from '../state/formation.js'
import { type PoolConfig, autoscaleKnobs } from '../state/pool-file.js'
import type { AutoscaleReport } from '../state/status-file.js'
import type { Observation } from './observer.js'

interface GroupScaling {
  settings: AutoscaleSettings
  state: AutoscaleState
  desired: number
  decision?: Decision
  at?: number
}

// What the master knows of a group's workers when a sample arrives.
export interface LiveCounts {
  workers: number
  busy: number
}

const clamp = (n: number, s: AutoscaleSettings) => Math.min(s.max, Math.max(s.min, n))

// The master's autoscaling: the policy's state per automatic group and the counts it decided. It only
// decides; the master's loop applies the counts through reconcile. Every change is one log line with its cause.
export class Autoscaler {
  private readonly scaling = new Map<string, GroupScaling>()
  private dryRun = false

  constructor(private readonly say: (line: string) => void) {}

  // Takes the automatic groups and knobs of pool.yml; a group kept keeps its state, a new one starts at
  // its current count within its bounds.
  configure(pool: PoolConfig, running: Record<string, number> = {}): void {
    this.dryRun = pool.autoscale.dryRun === true
    for (const group of [...this.scaling.keys()]) if (!pool.bounds[group]) this.scaling.delete(group)
    for (const [group, range] of Object.entries(pool.bounds)) {
      const knobs = autoscaleKnobs(pool, group)
      const settings: AutoscaleSettings = {
        min: range.min,
        max: range.max,
        targetLatencySeconds: knobs.targetLatency,
        downAfterSeconds: knobs.downAfter,
      }
      const known = this.scaling.get(group)
      if (known) {
        known.settings = settings
        known.desired = clamp(known.desired, settings)
        known.state = { ...known.state, count: known.desired }
      } else {
        const desired = clamp(running[group] ?? range.min, settings)
        this.scaling.set(group, { settings, state: initialAutoscaleState(desired), desired })
      }
    }
  }

  get active(): boolean {
    return this.scaling.size > 0
  }

  groups(): string[] {
    return [...this.scaling.keys()]
  }

  isAutomatic(group: string): boolean {
    return this.scaling.has(group)
  }

  // The formation with each automatic group at its decided count (in a dry run, the count it had).
  apply(formation: Formation): Formation {
    if (this.scaling.size === 0) return formation
    const out: Formation = {}
    for (const [group, count] of Object.entries(formation))
      out[group] = this.scaling.get(group)?.desired ?? count
    return out
  }

  // Decides every automatic group from one observation (or its failure); true when a count changed.
  observe(observation: Observation, live: (group: string) => LiveCounts): boolean {
    let changed = false
    for (const [group, scaling] of this.scaling) {
      const counts = live(group)
      const reading = 'readings' in observation ? observation.readings.get(group) : undefined
      const sample =
        'readings' in observation && reading ? { at: observation.at, ...reading, ...counts } : undefined
      const { state, decision } = decideAutoscale(scaling.state, sample, scaling.settings, observation.at)
      scaling.state = state
      scaling.decision = decision
      scaling.at = observation.at
      if (decision.announce)
        this.say(`autoscale${this.dryRun ? ' (dry run)' : ''}: ${formatDecision(group, decision)}`)
      // A dry run decides and logs, but the group stays at the count it had.
      if (!this.dryRun && decision.desired !== scaling.desired) {
        scaling.desired = decision.desired
        changed = true
      }
    }
    return changed
  }

  report(): Record<string, AutoscaleReport> {
    const out: Record<string, AutoscaleReport> = {}
    for (const [group, { settings, desired, decision, at }] of this.scaling)
      out[group] = {
        min: settings.min,
        max: settings.max,
        desired: this.dryRun && decision ? decision.desired : desired,
        ...(this.dryRun ? { running: desired } : {}),
        targetLatency: settings.targetLatencySeconds,
        downAfter: settings.downAfterSeconds,
        reason: decision?.reason ?? 'waiting for the first sample of its queues',
        at: at === undefined ? null : new Date(at).toISOString(),
        inputs: decision?.inputs ?? null,
        ...(this.dryRun ? { dryRun: true } : {}),
        ...(decision?.held ? { held: decision.held } : {}),
      }
    return out
  }
}
