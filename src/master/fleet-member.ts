import os from 'node:os'
import type { Redis } from 'ioredis'
import { errorMessage } from '../errors.js'
import { subscribeFleetEvents, type FleetSubscription } from '../fleet/events.js'
import { type Lease, type LeaseKeeper, type LeaseState, keepLease, readLease } from '../fleet/lease.js'
import {
  type FleetMembership,
  type MemberRecord,
  MEMBER_EXPIRY_MS,
  joinFleet,
  leaveFleet,
  listMembers,
} from '../fleet/membership.js'
import { planMember } from '../fleet/plan.js'
import {
  type FleetDecision,
  type FleetSpec,
  parseFleetSpec,
  readDecisions,
  readFleetFormation,
  resolveFleetTargets,
  writeDecision,
} from '../fleet/store.js'
import type { Formation } from '../state/formation.js'
import type { FleetConfig, PoolConfig } from '../state/pool-file.js'
import type { FleetReport } from '../state/status-file.js'
import { formatWorkerId } from '../resque/keys.js'
import { Autoscaler } from './autoscaler.js'
import { type Observation, Observer } from './observer.js'
import { redisTlsOptions } from '../proc/extra-ca.js'

// Members, formation, decisions and lease are read this often, and at once on every fleet event.
export const SNAPSHOT_INTERVAL_MS = 500
// How long a stopping member waits to tell the fleet it leaves.
const LEAVE_TIMEOUT_MS = 2_000

const HOSTNAME = os.hostname()

// What the fleet looked like at one read of Redis.
export interface FleetSnapshot {
  at: number
  members: MemberRecord[]
  groups: Record<string, FleetSpec>
  decisions: Record<string, FleetDecision>
  lease?: LeaseState
}

// What the adapter posts into the master's loop; only the loop acts on it.
export type FleetNews =
  | { kind: 'snapshot'; snapshot: FleetSnapshot }
  | { kind: 'unreachable'; at: number; error: string }
  | { kind: 'lease'; lease: Lease | undefined }
  | { kind: 'observation'; observation: Observation }
  | { kind: 'decision'; counts: Record<string, number>; written: boolean; error?: string }

// The parts of a master's slot the fleet looks at.
export interface FleetSlot {
  group: string
  child?: { pid?: number }
  retiring: boolean
  job: unknown
}

// Runs this master's membership of a fleet: heartbeat, lease, subscriptions and reads of Redis happen here
// and arrive as events; the master's loop calls handle() and apply(), the only places fleet state changes.
export class FleetMember {
  private redis?: Redis
  private membership?: FleetMembership
  private leaseKeeper?: LeaseKeeper
  private subscription?: FleetSubscription
  private observer?: Observer
  private timer?: NodeJS.Timeout
  private reading = false
  private readAgain = false
  private stopped = false
  // Loop state from here on.
  private snapshot?: FleetSnapshot
  private lastReadAt = Number.NEGATIVE_INFINITY
  private lastError?: string
  private lease?: Lease
  private readonly autoscaler: Autoscaler
  private signature = ''
  private lastPlan: { share: Record<string, number>; counts: Record<string, number> } = {
    share: {},
    counts: {},
  }

  constructor(
    private readonly config: FleetConfig,
    private readonly pool: PoolConfig,
    private readonly post: (news: FleetNews) => void,
    private readonly say: (line: string) => void,
  ) {
    const prefix = `autoscale (fleet, decided by ${config.hostId})`
    this.autoscaler = new Autoscaler((line) => say(line.replace(/^autoscale( \(dry run\))?/, prefix)))
    this.connect().catch((error) =>
      say(`fleet ${config.name}: cannot join: ${errorMessage(error)}; running the local groups only`),
    )
  }

  private async connect(): Promise<void> {
    const { Redis } = await import('ioredis')
    // Commands give up within a second and a half, so an unreachable Redis is noticed and nothing piles up.
    this.redis = new Redis(this.pool.redis!, {
      maxRetriesPerRequest: 1,
      commandTimeout: 1_500,
      connectTimeout: 1_500,
      retryStrategy: (times) => Math.min(100 * times, 1_000),
      disableClientInfo: true,
      ...redisTlsOptions(this.pool.redis!),
    })
    this.redis.on('error', () => undefined)
    const { name, hostId, weight } = this.config
    this.membership = await joinFleet(this.redis, name, {
      id: hostId,
      weight,
      onMembers: () => this.read(),
      onError: () => undefined,
    })
    if (this.stopped) return
    this.leaseKeeper = keepLease(this.redis, name, hostId, {
      onChange: (lease) => this.post({ kind: 'lease', lease }),
      onError: () => undefined,
    })
    this.subscription = await subscribeFleetEvents(this.redis, name, (event) => {
      if (event.type === 'formation' || event.type === 'decision') this.read()
    }).catch(() => undefined)
    this.read()
  }

  // One read of the fleet at a time; events during it ask for one more.
  private read(): void {
    if (this.stopped || !this.redis) return
    if (this.reading) {
      this.readAgain = true
      return
    }
    this.reading = true
    clearTimeout(this.timer)
    const redis = this.redis
    const name = this.config.name
    Promise.all([
      listMembers(redis, name),
      readFleetFormation(redis, name),
      readDecisions(redis, name),
      readLease(redis, name),
    ])
      .then(([members, formation, decisions, lease]) => {
        if (!this.stopped)
          this.post({
            kind: 'snapshot',
            snapshot: { at: Date.now(), members, groups: formation.groups, decisions, lease },
          })
      })
      .catch((error) => {
        if (!this.stopped) this.post({ kind: 'unreachable', at: Date.now(), error: errorMessage(error) })
      })
      .finally(() => {
        this.reading = false
        if (this.stopped) return
        if (this.readAgain) {
          this.readAgain = false
          this.read()
        } else this.timer = setTimeout(() => this.read(), SNAPSHOT_INTERVAL_MS)
      })
  }

  // Takes one piece of news into the loop's state; true when the counts may have changed.
  handle(news: FleetNews): boolean {
    switch (news.kind) {
      case 'snapshot':
        return this.takeSnapshot(news.snapshot)
      case 'unreachable':
        if (news.error !== this.lastError)
          this.say(`fleet ${this.config.name}: cannot reach Redis (${news.error}); keeping the workers`)
        this.lastError = news.error
        return false
      case 'lease':
        return this.takeLease(news.lease)
      case 'observation':
        return this.decide(news.observation)
      case 'decision':
        if (!news.written)
          this.say(
            `fleet ${this.config.name}: decision ${describe(news.counts)} not written${news.error ? ` (${news.error})` : ' (the lease moved)'}`,
          )
        return false
    }
  }

  private takeSnapshot(snapshot: FleetSnapshot): boolean {
    if (this.lastError) this.say(`fleet ${this.config.name}: Redis reachable again`)
    this.lastError = undefined
    const before = this.snapshot
    this.snapshot = snapshot
    this.lastReadAt = snapshot.at
    const self = snapshot.members.some((member) => member.id === this.config.hostId)
    const wasIn = before?.members.some((member) => member.id === this.config.hostId) ?? false
    if (self !== wasIn)
      this.say(
        self
          ? `fleet ${this.config.name}: joined as ${this.config.hostId} (weight ${this.config.weight}), ${snapshot.members.length} members`
          : `fleet ${this.config.name}: not among the live members; keeping the workers until the next beat lands`,
      )
    this.announceDecisions(before, snapshot)
    this.configureAutoscaler()
    const signature = JSON.stringify([
      snapshot.members.map((member) => [member.id, member.weight, member.running]),
      snapshot.groups,
      Object.entries(snapshot.decisions).map(([group, decision]) => [group, decision.count]),
    ])
    const changed = signature !== this.signature
    this.signature = signature
    return changed
  }

  // Members that did not decide say whose decision they apply.
  private announceDecisions(before: FleetSnapshot | undefined, after: FleetSnapshot): void {
    for (const [group, decision] of Object.entries(after.decisions)) {
      if (!(group in after.groups) || decision.holder === this.config.hostId) continue
      const previous = before?.decisions[group]
      if (previous && previous.count === decision.count) continue
      this.say(
        `autoscale (fleet, decided by ${decision.holder}): ${group} ${previous?.count ?? '?'} -> ${decision.count}`,
      )
    }
  }

  private takeLease(lease: Lease | undefined): boolean {
    const had = this.lease
    this.lease = lease
    if (lease) this.say(`fleet ${this.config.name}: holding the autoscaling lease (token ${lease.token})`)
    else if (had) this.say(`fleet ${this.config.name}: lease lost; no longer deciding automatic groups`)
    this.configureAutoscaler()
    return true
  }

  private rangeGroups(): Record<string, { min: number; max: number }> {
    const ranges: Record<string, { min: number; max: number }> = {}
    for (const [group, spec] of Object.entries(this.snapshot?.groups ?? {})) {
      const parsed = parseFleetSpec(spec)
      if (parsed.kind === 'range') ranges[group] = { min: parsed.min, max: parsed.max }
    }
    return ranges
  }

  // Only the lease holder sizes the ranges; it starts from the counts in force, so a new holder carries on.
  private configureAutoscaler(): void {
    const bounds = this.lease ? this.rangeGroups() : {}
    this.autoscaler.configure({ ...this.pool, bounds }, this.fleetTargets())
  }

  private fleetTargets(): Record<string, number> {
    if (!this.snapshot) return {}
    const targets = resolveFleetTargets(this.snapshot.groups, this.snapshot.decisions)
    return this.lease ? this.autoscaler.apply(targets) : targets
  }

  private decide(observation: Observation): boolean {
    const lease = this.lease
    if (!lease || !this.snapshot || !this.reachable()) return false
    const members = this.snapshot.members
    const changed = this.autoscaler.observe(observation, (group) => ({
      workers: members.reduce((sum, member) => sum + (member.running[group] ?? 0), 0),
      busy: members.reduce((sum, member) => sum + (member.busy?.[group] ?? 0), 0),
    }))
    if (!changed) return false
    const counts: Record<string, number> = {}
    const decided = this.autoscaler.apply(resolveFleetTargets(this.snapshot.groups, this.snapshot.decisions))
    for (const group of this.autoscaler.groups()) counts[group] = decided[group]!
    const redis = this.redis!
    writeDecision(redis, this.config.name, lease, counts, observation.at)
      .then((written) => this.post({ kind: 'decision', counts, written }))
      .catch((error) => this.post({ kind: 'decision', counts, written: false, error: errorMessage(error) }))
    return true
  }

  private reachable(): boolean {
    return Date.now() - this.lastReadAt < MEMBER_EXPIRY_MS
  }

  // The groups the fleet formation names; every other group of pool.yml is local to this master.
  fleetGroups(): string[] {
    return Object.keys(this.snapshot?.groups ?? {})
  }

  // The formation reconcile works towards: local groups as given, fleet groups at this member's share,
  // reached without the fleet overshooting its target by more than one member's share.
  apply(local: Formation, slots: readonly FleetSlot[]): Formation {
    const running: Record<string, number> = {}
    const alive: Record<string, number> = {}
    const busy: Record<string, number> = {}
    const workers: Record<string, string[]> = {}
    for (const slot of slots) {
      if (!slot.child?.pid) continue
      alive[slot.group] = (alive[slot.group] ?? 0) + 1
      if (!slot.retiring) running[slot.group] = (running[slot.group] ?? 0) + 1
      if (slot.job) busy[slot.group] = (busy[slot.group] ?? 0) + 1
      ;(workers[slot.group] ??= []).push(formatWorkerId(HOSTNAME, slot.child.pid, slot.group))
    }
    // Others count a stopping worker until it is gone, so they never grow into room it still takes.
    this.membership?.setRunning(alive, { busy, workers })
    this.feedObserver(workers)
    const groups = this.fleetGroups()
    if (groups.length === 0) return local
    const out: Formation = {}
    for (const [group, count] of Object.entries(local)) if (!groups.includes(group)) out[group] = count
    const plan = this.reachable()
      ? planMember({
          selfId: this.config.hostId,
          members: this.snapshot!.members,
          targets: this.fleetTargets(),
          running,
        })
      : undefined
    if (!plan?.inFleet) {
      // Cut off, or not yet listed: keep what runs and decide nothing.
      for (const group of groups) out[group] = running[group] ?? 0
      this.lastPlan = { share: this.lastPlan.share, counts: { ...running } }
      return out
    }
    for (const group of groups) out[group] = plan.counts[group] ?? 0
    this.lastPlan = { share: plan.share, counts: plan.counts }
    return out
  }

  // The holder samples the ranges' queues with every member's workers; everyone else samples nothing.
  private feedObserver(own: Record<string, string[]>): void {
    const ranges = this.lease ? Object.keys(this.rangeGroups()) : []
    if (ranges.length === 0 || this.stopped) {
      this.observer?.setTargets([])
      return
    }
    this.observer ??= new Observer(this.pool.redis!, this.pool.namespace ?? 'resque', (observation) =>
      this.post({ kind: 'observation', observation }),
    )
    const members = this.snapshot?.members ?? []
    this.observer.setTargets(
      ranges.map((group) => {
        const ids = new Set(own[group] ?? [])
        for (const member of members)
          if (member.id !== this.config.hostId) for (const id of member.workers?.[group] ?? []) ids.add(id)
        return { group, workerIds: [...ids] }
      }),
    )
  }

  report(): FleetReport {
    const snapshot = this.snapshot
    const decidedBy: Record<string, string> = {}
    for (const group of Object.keys(this.rangeGroups())) {
      const decision = snapshot?.decisions[group]
      if (decision) decidedBy[group] = decision.holder
    }
    const now = Date.now()
    return {
      name: this.config.name,
      hostId: this.config.hostId,
      weight: this.config.weight,
      reachable: this.reachable(),
      groups: { ...snapshot?.groups },
      targets: this.fleetTargets(),
      share: this.lastPlan.share,
      counts: this.lastPlan.counts,
      holder: snapshot?.lease?.holder ?? null,
      decidedBy,
      members: (snapshot?.members ?? []).map((member) => ({
        id: member.id,
        host: member.host,
        pid: member.pid,
        weight: member.weight,
        beatAgeMs: Math.max(0, now - member.beatAt),
      })),
    }
  }

  // Leaves at once (the others take the share now, not after the expiry) and hands back the lease.
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.observer?.stop()
    await this.subscription?.close()
    const redis = this.redis
    const leaving = (async () => {
      await this.leaseKeeper?.stop()
      if (this.membership) await this.membership.leave()
      else if (redis) await leaveFleet(redis, this.config.name, this.config.hostId)
    })().catch(() => undefined)
    await Promise.race([leaving, new Promise((resolve) => setTimeout(resolve, LEAVE_TIMEOUT_MS))])
    redis?.disconnect()
  }
}

function describe(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([group, count]) => `${group}=${count}`)
    .join(' ')
}
