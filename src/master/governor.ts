import { allocateBudget } from '../autoscale/budget.js'
import {
  type GuardDecision,
  type GuardName,
  type GuardState,
  type HostReading,
  type RssSample,
  type RssState,
  chooseShed,
  createGuardState,
  evaluateGuards,
  evaluateRss,
  hasGuards,
} from '../autoscale/guards.js'
import type { Limits } from '../autoscale/limits-config.js'
import type { Formation } from '../state/formation.js'

// What the governor knows of one group when it shapes the counts.
export interface GroupView {
  name: string
  automatic: boolean
  min: number
  max: number
  // Live workers (starting and running, not stopping), and how many of them are idle.
  current: number
  idle: number
  latency: number | null
  targetLatency: number
}

export interface GuardReport {
  maxLoad?: number
  minFreeMem?: string
  maxRss?: number
  // Seconds after QUIT before TERM, for a tree still over maxRss.
  maxRssGrace?: number
  maxTotal?: number
  guardAfter: number
  // The guard that holds scale-ups back now, and why.
  vetoing: GuardName | null
  reason: string
  reading: { loadPerCore: number; memAvailable: number; memTotal: number; at: string } | null
  // Workers a group is held below what autoscaling wants: guard sheds and the budget.
  capped: Record<string, { count: number; by: string }>
  vetoes: Record<string, number>
}

export interface RssSignal {
  pid: number
  signal: NodeJS.Signals
}

const RSS_SIGNALS = { quit: 'SIGQUIT', term: 'SIGTERM', kill: 'SIGKILL' } as const

// Keeps autoscaling within the pool's limits: host guards (no scale-up above a load or below a memory floor,
// then shedding one worker at a time), a per-worker memory cap, and a total budget shared between groups.
// It decides; the master's loop applies (reconcile, signals). Every veto, shed and step is a log line.
export class Governor {
  private limits?: Limits
  private guardState: GuardState = createGuardState()
  private decision?: GuardDecision
  private reading?: HostReading
  private rssState: RssState = {}
  // Counts a guard shed a group down to, while the guard stays tripped.
  private readonly shedCaps = new Map<string, number>()
  private readonly vetoed = new Map<string, string>()
  private readonly capped: GuardReport['capped'] = {}
  readonly vetoCounts: Record<string, number> = {}

  constructor(private readonly say: (line: string) => void) {}

  configure(limits: Limits): void {
    this.limits = limits
    if (!hasGuards(limits.guards)) {
      this.shedCaps.clear()
      this.decision = undefined
    }
  }

  get needsHostReadings(): boolean {
    return Boolean(this.limits && (hasGuards(this.limits.guards) || this.limits.rss))
  }

  get watchesRss(): boolean {
    return Boolean(this.limits?.rss)
  }

  get active(): boolean {
    return Boolean(this.limits && (this.needsHostReadings || this.limits.maxTotal !== undefined))
  }

  get maxTotal(): number | undefined {
    return this.limits?.maxTotal
  }

  // Takes a host reading: guard state, and a shed when a guard has stayed tripped for guardAfter. Returns
  // true when the counts may change.
  observeHost(reading: HostReading | undefined, groups: readonly GroupView[], now: number): boolean {
    if (!this.limits || !hasGuards(this.limits.guards)) return false
    if (reading) this.reading = reading
    const first = this.decision === undefined
    const before = this.decision?.vetoUp
    this.decision = evaluateGuards(this.guardState, reading, this.limits.guards, now)
    this.guardState = this.decision.state
    // The first reading lifts the hold on growth (or turns it into a veto).
    let changed = first
    if (this.decision.vetoUp && this.decision.vetoUp !== before) this.say(`guard: ${this.decision.reason}`)
    if (this.decision.shed) {
      const group = chooseShed(
        groups
          .filter((g) => g.automatic)
          .map((g) => ({ ...g, current: this.shedCaps.get(g.name) ?? g.current })),
      )
      if (group) {
        const view = groups.find((g) => g.name === group)!
        const cap = Math.min(this.shedCaps.get(group) ?? view.current, view.current) - 1
        this.shedCaps.set(group, cap)
        this.count(this.decision.shed)
        this.say(
          `guard: shedding one worker of ${group} (${view.current} -> ${cap}): ${this.decision.reason}`,
        )
        changed = true
      } else this.say(`guard: ${this.decision.reason}; no automatic group is above its minimum`)
    }
    if (!this.decision.vetoUp && (before || this.shedCaps.size)) {
      this.say(`guard: back within limits (${this.decision.reason}); autoscaling may grow groups again`)
      this.shedCaps.clear()
      changed = true
    }
    return changed
  }

  // Which workers to signal for a process tree holding too much memory: QUIT, then TERM, then KILL, each a log line.
  observeRss(
    samples: readonly RssSample[],
    groupOf: (pid: number) => string | undefined,
    now: number,
  ): RssSignal[] {
    if (!this.limits?.rss) return []
    const { state, actions } = evaluateRss(this.rssState, samples, this.limits.rss, now)
    this.rssState = state
    return actions.map((action) => {
      this.count('max-rss')
      this.say(`guard: ${action.reason} (queues: ${groupOf(action.pid) ?? '?'})`)
      return { pid: action.pid, signal: RSS_SIGNALS[action.step] }
    })
  }

  // The counts reconcile works towards, within the guards and the budget. `wanted` is what pool.yml and
  // autoscaling ask for; a guard vetoes growth of automatic groups, sheds cap them, the budget splits maxTotal.
  shape(wanted: Formation, groups: readonly GroupView[]): Formation {
    const counts: Formation = { ...wanted }
    for (const key of Object.keys(this.capped)) delete this.capped[key]
    const veto = this.decision?.vetoUp
    // Until the first host reading no group grows: it would otherwise outrun a guard that is already tripped.
    const unread = this.limits !== undefined && hasGuards(this.limits.guards) && this.decision === undefined
    for (const group of groups) {
      if (!group.automatic || !(group.name in counts)) continue
      const want = counts[group.name]
      let allowed = want
      if ((veto || unread) && want > group.current) allowed = Math.max(group.min, group.current)
      const cap = this.shedCaps.get(group.name)
      if (cap !== undefined) allowed = Math.min(allowed, Math.max(group.min, cap))
      if (allowed < want) {
        counts[group.name] = allowed
        this.capped[group.name] = {
          count: allowed,
          by: veto ?? (unread ? 'the first host reading' : 'guard'),
        }
        const note = `${want}:${allowed}:${veto}`
        if (veto && want > group.current && this.vetoed.get(group.name) !== note) {
          this.count(veto)
          this.say(`guard: ${veto} vetoes ${group.name} ${group.current} -> ${want}; held at ${allowed}`)
        }
        this.vetoed.set(group.name, note)
      } else this.vetoed.delete(group.name)
    }
    const maxTotal = this.limits?.maxTotal
    if (maxTotal === undefined) return counts
    const allocation = allocateBudget(
      groups.filter((g) => g.name in counts).map((g) => ({ ...g, want: counts[g.name] })),
      maxTotal,
    )
    for (const [group, count] of Object.entries(allocation.counts)) {
      if (count < counts[group])
        this.capped[group] = { count, by: `budget: ${allocation.reasons[group] ?? maxTotal}` }
      counts[group] = count
    }
    return counts
  }

  report(): GuardReport | undefined {
    if (!this.limits || !this.active) return undefined
    const { guards, rss, maxTotal } = this.limits
    const reading = this.reading
    return {
      ...(guards.maxLoad !== undefined ? { maxLoad: guards.maxLoad } : {}),
      ...(guards.minFreeMem !== undefined
        ? {
            minFreeMem:
              'percent' in guards.minFreeMem
                ? `${guards.minFreeMem.percent}%`
                : String(guards.minFreeMem.bytes),
          }
        : {}),
      ...(rss ? { maxRss: rss.maxRss, maxRssGrace: rss.graceMs / 1000 } : {}),
      ...(maxTotal !== undefined ? { maxTotal } : {}),
      guardAfter: guards.guardAfterSeconds,
      vetoing: this.decision?.vetoUp ?? null,
      reason:
        this.decision?.reason ??
        (hasGuards(guards) ? 'waiting for the first host reading' : 'no host guards'),
      reading: reading
        ? {
            loadPerCore: reading.load1 / Math.max(1, reading.cores),
            memAvailable: reading.memAvailable,
            memTotal: reading.memTotal,
            at: new Date(reading.at).toISOString(),
          }
        : null,
      capped: { ...this.capped },
      vetoes: { ...this.vetoCounts },
    }
  }

  private count(guard: string): void {
    this.vetoCounts[guard] = (this.vetoCounts[guard] ?? 0) + 1
  }
}
