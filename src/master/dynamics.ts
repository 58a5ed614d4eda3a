import os from 'node:os'
import type { ChildProcess } from 'node:child_process'
import { type Formation, type FormationSpec, formatFormation } from '../state/formation.js'
import { type PoolConfig, autoscaleKnobs } from '../state/pool-file.js'
import type { StatusFile } from '../state/status-file.js'
import { formatWorkerId } from '../resque/keys.js'
import { type Limits, compileLimits, scheduledSpec } from '../autoscale/limits-config.js'
import { spawnAllowance } from '../autoscale/budget.js'
import { formatWindow } from '../autoscale/schedule.js'
import { Autoscaler } from './autoscaler.js'
import { type Observation, Observer } from './observer.js'
import { type GroupView, Governor } from './governor.js'
import { type HostObservation, HostObserver } from './host-observer.js'
import type { FleetMember, FleetNews } from './fleet-member.js'

const HOSTNAME = os.hostname()
// Tests move the master's clock (schedules) with RPD_CLOCK_OFFSET_MS; timers still run on the real one.
const CLOCK_OFFSET_MS = Number(process.env.RPD_CLOCK_OFFSET_MS) || 0
const clockNow = () => Date.now() + CLOCK_OFFSET_MS

// What the dynamic parts need to know of a slot.
export interface LiveSlot {
  group: string
  state: string
  retiring: boolean
  child?: ChildProcess
  job: unknown
}

export type DynamicsEvent =
  | { type: 'observation'; observation: Observation }
  | { type: 'host'; observation: HostObservation }
  | { type: 'fleet'; news: FleetNews }

// The master's side of the bargain: its slots, their busy state, and the few acts the guards may ask for.
export interface DynamicsHost<S extends LiveSlot> {
  readonly slots: readonly S[]
  busyOf(slot: S): boolean | undefined
  say(line: string): void
  push(event: DynamicsEvent): void
  // A worker stopped for its memory (QUIT): retired and replaced at once.
  retire(slot: S, signal: NodeJS.Signals): void
  signalGroupOf(slot: S, signal: NodeJS.Signals): void
}

// Everything that moves the formation while the pool runs: schedule windows, the autoscaler and its queue
// observer, guards and the budget with their host readings, and a fleet member's share. The master asks it for
// the counts to reconcile towards and feeds it the events its observers queue; it owns no process.
export class Dynamics<S extends LiveSlot> {
  private pool: PoolConfig
  private limits: Limits
  // The formation in force: pool.yml's, with the active schedule windows' entries in place.
  private spec: FormationSpec & { active: number[]; nextChangeAt: number | null }
  // Sizes the automatic groups (images=0..8) from the observer's samples of their queues.
  private readonly autoscaler: Autoscaler
  private observer?: Observer
  // Guards, the worker budget and schedules: pool.yml's limits, compiled, and what they hold back now.
  private readonly governor: Governor
  private hostObserver?: HostObserver
  // Membership of a fleet (pool.yml fleet:): its groups run at this master's share of the fleet formation.
  // Its code (and Redis client) is loaded by join(), only for a member.
  private fleet?: FleetMember

  constructor(
    pool: PoolConfig,
    private readonly host: DynamicsHost<S>,
  ) {
    this.pool = pool
    this.autoscaler = new Autoscaler((line) => host.say(line))
    this.governor = new Governor((line) => host.say(line))
    this.limits = compileLimits(pool)
    this.governor.configure(this.limits)
    this.spec = scheduledSpec(pool, this.limits, clockNow())
    this.autoscaler.configure({ ...pool, ...this.spec })
  }

  async join(): Promise<void> {
    if (!this.pool.fleet) return
    const { FleetMember } = await import('./fleet-member.js')
    this.fleet = new FleetMember(
      this.pool.fleet,
      this.pool,
      (news) => this.host.push({ type: 'fleet', news }),
      (line) => this.host.say(line),
    )
  }

  // A reloaded pool.yml: compiled first, so a bad one throws and leaves everything as it was.
  configure(pool: PoolConfig): void {
    const limits = compileLimits(pool)
    this.pool = pool
    this.limits = limits
    this.governor.configure(limits)
    this.spec = scheduledSpec(pool, limits, clockNow())
    this.autoscaler.configure({ ...pool, ...this.spec }, this.runningCounts())
  }

  // The counts reconcile works towards: pool.yml's (with schedule windows in place), automatic groups at
  // the autoscaler's decision, then held within the guards and the budget, then this member's fleet share.
  desired(): Formation {
    const wanted = this.autoscaler.apply(this.spec.formation)
    const shaped = this.governor.active ? this.governor.shape(wanted, this.groupViews()) : wanted
    return this.fleet ? this.fleet.apply(shaped, this.host.slots) : shaped
  }

  isAutomatic(group: string): boolean {
    return this.autoscaler.isAutomatic(group)
  }

  // When the formation in force next changes by the schedule, on the real clock (null: never).
  nextChangeAt(): number | null {
    return this.spec.nextChangeAt === null ? null : this.spec.nextChangeAt - CLOCK_OFFSET_MS
  }

  // Under a budget, live workers (starting, running and still stopping) never exceed it at any instant:
  // a growing group spawns only as the shrinking one's workers actually exit.
  withinBudget<T extends { group: string }>(spawns: T[]): T[] {
    const maxTotal = this.governor.maxTotal
    if (maxTotal === undefined) return spawns
    const live = this.host.slots.filter((slot) => slot.child).length
    return spawns.slice(0, spawnAllowance(live, maxTotal))
  }

  // At a schedule window's edge: the formation in force changes, with one log line naming the window.
  followSchedule(): void {
    if (this.spec.nextChangeAt === null || clockNow() < this.spec.nextChangeAt) return
    const before = this.spec.active
    this.spec = scheduledSpec(this.pool, this.limits, clockNow())
    const began = this.spec.active.filter((i) => !before.includes(i))
    const ended = before.filter((i) => !this.spec.active.includes(i))
    const say = (line: string) => this.host.say(line)
    for (const i of ended) say(`schedule: window ${i + 1} ends (${formatWindow(this.limits.windows[i])})`)
    for (const i of began) say(`schedule: window ${i + 1} begins (${formatWindow(this.limits.windows[i])})`)
    say(`schedule: formation now ${formatFormation(this.spec.formation, this.spec.bounds) || '(no workers)'}`)
    this.autoscaler.configure({ ...this.pool, ...this.spec }, this.runningCounts())
  }

  // An event one of the observers queued. True when the formation may have changed (a reconcile pass is due).
  handle(event: DynamicsEvent): boolean {
    switch (event.type) {
      case 'observation':
        return this.handleObservation(event.observation)
      case 'host':
        return this.handleHost(event.observation)
      case 'fleet':
        return this.fleet?.handle(event.news) ?? false
    }
  }

  private handleHost(observation: HostObservation): boolean {
    let changed = this.governor.observeHost(observation.reading, this.groupViews(), observation.at)
    const slotOf = (pid: number) => this.host.slots.find((slot) => slot.child?.pid === pid)
    const groupOf = (pid: number) => slotOf(pid)?.group
    for (const { pid, signal } of this.governor.observeRss(observation.rss, groupOf, observation.at)) {
      const slot = slotOf(pid)
      if (!slot) continue
      // Retired, not crashed: its replacement starts now, with no crash back-off, while it finishes its job.
      if (signal === 'SIGQUIT') {
        this.host.retire(slot, signal)
        changed = true
      } else this.host.signalGroupOf(slot, signal)
    }
    return changed
  }

  private handleObservation(observation: Observation): boolean {
    return this.autoscaler.observe(observation, (group) => {
      const slots = this.live(group)
      return {
        workers: slots.filter((slot) => slot.state === 'running').length,
        busy: slots.filter((slot) => this.host.busyOf(slot) === true).length,
      }
    })
  }

  private live(group: string): S[] {
    return this.host.slots.filter((slot) => slot.group === group && slot.child && !slot.retiring)
  }

  private runningCounts(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const slot of this.host.slots)
      if (slot.child && !slot.retiring) counts[slot.group] = (counts[slot.group] ?? 0) + 1
    return counts
  }

  private groupViews(): GroupView[] {
    const report = this.autoscaler.active ? this.autoscaler.report() : {}
    return Object.entries(this.spec.formation).map(([name, count]) => {
      const live = this.live(name)
      const range = this.spec.bounds[name]
      return {
        name,
        automatic: Boolean(range),
        min: range?.min ?? count,
        max: range?.max ?? count,
        current: live.length,
        idle: live.filter((slot) => this.host.busyOf(slot) === false).length,
        latency: report[name]?.inputs?.latency ?? null,
        targetLatency: autoscaleKnobs(this.pool, name).targetLatency,
      }
    })
  }

  // Keeps the observers sampling what the pool needs: queues of automatic groups, the host for guards.
  // A stopping pool needs neither.
  observe(stopping: boolean): void {
    const pids = this.host.slots.filter((slot) => slot.child).map((slot) => slot.child!.pid!)
    if (this.governor.needsHostReadings && !stopping) {
      this.hostObserver ??= new HostObserver((observation) => this.host.push({ type: 'host', observation }))
      this.hostObserver.watch(pids, this.governor.watchesRss)
    } else {
      this.hostObserver?.stop()
      this.hostObserver = undefined
    }
    const groups = stopping || !this.pool.redis ? [] : this.autoscaler.groups()
    if (groups.length === 0) {
      this.observer?.setTargets([])
      return
    }
    this.observer ??= new Observer(this.pool.redis!, this.pool.namespace ?? 'resque', (observation) =>
      this.host.push({ type: 'observation', observation }),
    )
    this.observer.setTargets(
      groups.map((group) => ({
        group,
        workerIds: this.host.slots
          .filter((slot) => slot.group === group && slot.child?.pid)
          .map((slot) => formatWorkerId(HOSTNAME, slot.child!.pid!, group)),
      })),
    )
  }

  // status.json's account of the dynamic parts that are in use.
  report(): Pick<StatusFile, 'autoscale' | 'guards' | 'schedule' | 'fleet'> {
    return {
      ...(this.autoscaler.active ? { autoscale: this.autoscaler.report() } : {}),
      ...(this.governor.active ? { guards: this.governor.report() } : {}),
      ...(this.limits.windows.length
        ? {
            schedule: {
              timezone: this.limits.timezone,
              windows: this.limits.windows.map(formatWindow),
              active: this.spec.active,
              nextChangeAt:
                this.spec.nextChangeAt === null ? null : new Date(this.spec.nextChangeAt).toISOString(),
            },
          }
        : {}),
      ...(this.fleet ? { fleet: this.fleet.report() } : {}),
    }
  }

  async stop(): Promise<void> {
    await this.fleet?.stop()
    this.observer?.stop()
    this.hostObserver?.stop()
  }
}
