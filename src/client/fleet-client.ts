// The fleet as seen from any machine with its Redis: change its formation, list its members. No local
// master is involved; the members read Redis and act on their own.
import type { Redis } from 'ioredis'
import { RpdError, errorMessage, usageError } from '../errors.js'
import { readLease } from '../fleet/lease.js'
import { listMembers } from '../fleet/membership.js'
import { computeShares } from '../fleet/shares.js'
import {
  type FleetFormation,
  type FleetSpec,
  parseFleetSpec,
  readDecisions,
  readFleetFormation,
  resolveFleetTargets,
  updateFleetFormation,
} from '../fleet/store.js'
import { checkFleetName } from '../fleet/keys.js'

export interface FleetTarget {
  fleet: string
  redis: string
}

export interface FleetMemberStatus {
  id: string
  host: string
  pid: number
  weight: number
  beatAgeMs: number
  share: Record<string, number>
  workers: Record<string, number>
}

export interface FleetStatus {
  fleet: string
  generation: number
  groups: Record<string, FleetSpec>
  targets: Record<string, number>
  holder: { id: string; token: number } | null
  decidedBy: Record<string, string>
  members: FleetMemberStatus[]
  totals: { share: Record<string, number>; workers: Record<string, number> }
}

async function withRedis<T>(target: FleetTarget, use: (redis: Redis) => Promise<T>): Promise<T> {
  try {
    checkFleetName(target.fleet)
  } catch (error) {
    throw usageError(errorMessage(error))
  }
  const { Redis } = await import('ioredis')
  const redis = new Redis(target.redis, {
    maxRetriesPerRequest: 0,
    connectTimeout: 3_000,
    commandTimeout: 3_000,
    retryStrategy: () => null,
    disableClientInfo: true,
  })
  redis.on('error', () => undefined)
  try {
    return await use(redis)
  } catch (error) {
    if (error instanceof RpdError || error instanceof RangeError) throw error
    throw new RpdError(`cannot reach the fleet's Redis at ${target.redis}: ${errorMessage(error)}`)
  } finally {
    redis.disconnect()
  }
}

// `images=12` fixes a group, `mail=0..20` makes the lease holder decide it, `images=0` drops it.
export function parseFleetChanges(specs: readonly string[]): Record<string, FleetSpec | null> {
  const changes: Record<string, FleetSpec | null> = {}
  for (const arg of specs.flatMap((spec) => spec.split(/[\s:]+/)).filter(Boolean)) {
    const at = arg.lastIndexOf('=')
    const group = arg.slice(0, at)
    const spec = arg.slice(at + 1)
    if (at <= 0)
      throw usageError(`bad fleet change ${JSON.stringify(arg)}; use GROUP=COUNT or GROUP=MIN..MAX`)
    try {
      parseFleetSpec(spec)
    } catch (error) {
      throw usageError(errorMessage(error))
    }
    changes[group] = spec === '0' ? null : spec
  }
  if (Object.keys(changes).length === 0)
    throw usageError('no change given: pass GROUP=COUNT or GROUP=MIN..MAX')
  return changes
}

export async function scaleFleet(target: FleetTarget, specs: readonly string[]): Promise<FleetFormation> {
  const changes = parseFleetChanges(specs)
  return withRedis(target, async (redis) => {
    try {
      return await updateFleetFormation(redis, target.fleet, changes)
    } catch (error) {
      if (error instanceof RangeError) throw usageError(error.message)
      throw error
    }
  })
}

export async function readFleetStatus(target: FleetTarget, now: number = Date.now()): Promise<FleetStatus> {
  return withRedis(target, async (redis) => {
    const [members, formation, decisions, lease] = await Promise.all([
      listMembers(redis, target.fleet),
      readFleetFormation(redis, target.fleet),
      readDecisions(redis, target.fleet),
      readLease(redis, target.fleet),
    ])
    const targets = resolveFleetTargets(formation.groups, decisions)
    const shares = members.length ? computeShares(members, targets) : {}
    const totals = { share: {} as Record<string, number>, workers: {} as Record<string, number> }
    const rows = members.map((member) => {
      const share = shares[member.id] ?? {}
      for (const [group, count] of Object.entries(share))
        totals.share[group] = (totals.share[group] ?? 0) + count
      for (const [group, count] of Object.entries(member.running))
        totals.workers[group] = (totals.workers[group] ?? 0) + count
      return {
        id: member.id,
        host: member.host,
        pid: member.pid,
        weight: member.weight,
        beatAgeMs: Math.max(0, now - member.beatAt),
        share,
        workers: member.running,
      }
    })
    const decidedBy: Record<string, string> = {}
    for (const [group, decision] of Object.entries(decisions))
      if (group in formation.groups && parseFleetSpec(formation.groups[group]!).kind === 'range')
        decidedBy[group] = decision.holder
    return {
      fleet: target.fleet,
      generation: formation.generation,
      groups: formation.groups,
      targets,
      holder: lease ? { id: lease.holder, token: lease.token } : null,
      decidedBy,
      members: rows,
      totals,
    }
  })
}

export function describeFleetFormation(groups: Record<string, FleetSpec>): string {
  return (
    Object.keys(groups)
      .sort()
      .map((group) => `${group}=${groups[group]}`)
      .join(' ') || '(no groups)'
  )
}

function counts(values: Record<string, number>, groups: readonly string[]): string {
  return groups.map((group) => `${group}=${values[group] ?? 0}`).join(' ') || '-'
}

export function formatFleetStatus(status: FleetStatus): string[] {
  const groups = Object.keys(status.groups).sort()
  const formation = groups
    .map((group) => {
      const spec = status.groups[group]!
      if (parseFleetSpec(spec).kind === 'fixed') return `${group}=${spec}`
      const by = status.decidedBy[group]
      return `${group}=${spec} (now ${status.targets[group]}${by ? `, decided by ${by}` : ''})`
    })
    .join(' ')
  const lines = [
    `fleet ${status.fleet}: ${status.members.length} members, generation ${status.generation}, lease ${status.holder ? `held by ${status.holder.id} (token ${status.holder.token})` : 'free'}`,
    `formation: ${formation || '(none: rpd scale --fleet NAME GROUP=COUNT)'}`,
  ]
  const rows = status.members.map((member) => [
    member.id,
    member.host,
    String(member.pid),
    String(member.weight),
    `${(member.beatAgeMs / 1000).toFixed(1)}s`,
    counts(member.share, groups),
    counts(member.workers, groups),
  ])
  rows.unshift(['MEMBER', 'HOST', 'PID', 'WEIGHT', 'BEAT', 'SHARE', 'WORKERS'])
  rows.push([
    'total',
    '',
    '',
    '',
    '',
    counts(status.totals.share, groups),
    counts(status.totals.workers, groups),
  ])
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  for (const row of rows)
    lines.push(
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
  return lines
}
