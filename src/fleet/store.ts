import type { Redis } from 'ioredis'
import { fleetKeys } from './keys.js'
import type { Lease } from './lease.js'
import { compareIds } from './shares.js'

// A fixed count (`12`) or a range the lease holder decides within (`0..20`), kept as written.
export type FleetSpec = string

export interface FleetFormation {
  generation: number
  groups: Record<string, FleetSpec>
}

export interface FleetDecision {
  count: number
  holder: string
  token: number
  decidedAt: number
}

export type ParsedSpec = { kind: 'fixed'; count: number } | { kind: 'range'; min: number; max: number }

export function parseFleetSpec(spec: string): ParsedSpec {
  const fixed = /^(\d+)$/.exec(spec)
  if (fixed) return { kind: 'fixed', count: Number(fixed[1]) }
  const range = /^(\d+)\.\.(\d+)$/.exec(spec)
  if (range && Number(range[1]) <= Number(range[2]))
    return { kind: 'range', min: Number(range[1]), max: Number(range[2]) }
  throw new RangeError(`bad fleet spec ${JSON.stringify(spec)}; use a count like 12 or a range like 0..20`)
}

function checkGroupName(group: string): void {
  if (!/^[A-Za-z0-9_.:,*-]+$/.test(group))
    throw new RangeError(`bad group name ${JSON.stringify(group)}; use letters, digits and . _ : - , *`)
}

// ARGV: expected generation ('' for any), then group/value pairs where '' deletes the group.
// Applies every change, bumps the generation and announces it in one atomic step.
const UPDATE_FORMATION_LUA = `
local generation = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= generation then
  return {-1, generation}
end
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
generation = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', KEYS[3], cjson.encode({type = 'formation', generation = generation}))
return {generation, generation}
`

export class StaleGenerationError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`fleet formation is at generation ${actual}, not ${expected}; read it again and retry`)
  }
}

export async function readFleetFormation(redis: Redis, fleet: string): Promise<FleetFormation> {
  const keys = fleetKeys(fleet)
  const results = await redis.multi().hgetall(keys.formation).get(keys.formationGeneration).exec()
  if (!results) throw new Error(`reading the formation of fleet ${fleet} was discarded`)
  const [[groupsError, groups], [generationError, generation]] = results as [
    [Error | null, Record<string, string>],
    [Error | null, string | null],
  ]
  if (groupsError) throw groupsError
  if (generationError) throw generationError
  return { generation: Number(generation ?? 0), groups }
}

// Changes map a group to its new spec, or to null to drop it. Groups not named keep their spec, so two
// writers changing different groups at once both land. expectGeneration turns it into compare-and-set.
export async function updateFleetFormation(
  redis: Redis,
  fleet: string,
  changes: Record<string, FleetSpec | number | null>,
  options: { expectGeneration?: number } = {},
): Promise<FleetFormation> {
  const keys = fleetKeys(fleet)
  const args: string[] = [options.expectGeneration === undefined ? '' : String(options.expectGeneration)]
  for (const group of Object.keys(changes).sort(compareIds)) {
    checkGroupName(group)
    const value = changes[group]
    if (value === null || value === undefined) {
      args.push(group, '')
      continue
    }
    const spec = String(value)
    parseFleetSpec(spec)
    args.push(group, spec)
  }
  const [status, generation] = (await redis.eval(
    UPDATE_FORMATION_LUA,
    3,
    keys.formation,
    keys.formationGeneration,
    keys.events,
    ...args,
  )) as [number, number]
  if (status === -1) throw new StaleGenerationError(options.expectGeneration!, generation)
  return readFleetFormation(redis, fleet)
}

// Accepted only from the member whose lease, with this very token, is the one in Redis now, and never
// from a token older than one that already wrote: a holder paused past its ttl cannot overwrite.
const WRITE_DECISION_LUA = `
local lease = redis.call('GET', KEYS[1])
if lease ~= ARGV[1] .. ':' .. ARGV[2] then return 0 end
local highest = tonumber(redis.call('GET', KEYS[3]) or '0')
if tonumber(ARGV[1]) < highest then return 0 end
redis.call('SET', KEYS[3], ARGV[1])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('PUBLISH', KEYS[4], cjson.encode({type = 'decision', holder = ARGV[2], token = tonumber(ARGV[1])}))
return 1
`

export async function writeDecision(
  redis: Redis,
  fleet: string,
  lease: Lease,
  counts: Record<string, number>,
  decidedAt: number,
): Promise<boolean> {
  const keys = fleetKeys(fleet)
  const args: string[] = [String(lease.token), lease.holder, String(decidedAt)]
  for (const group of Object.keys(counts).sort(compareIds)) {
    checkGroupName(group)
    const count = counts[group]!
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`decision for ${group} is ${count}; use a whole number >= 0`)
    const decision: FleetDecision = { count, holder: lease.holder, token: lease.token, decidedAt }
    args.push(group, JSON.stringify(decision))
  }
  const written = await redis.eval(
    WRITE_DECISION_LUA,
    4,
    keys.lease,
    keys.decisions,
    keys.decisionsToken,
    keys.events,
    ...args,
  )
  return written === 1
}

export async function readDecisions(redis: Redis, fleet: string): Promise<Record<string, FleetDecision>> {
  const raw = await redis.hgetall(fleetKeys(fleet).decisions)
  const decisions: Record<string, FleetDecision> = {}
  for (const [group, value] of Object.entries(raw)) {
    try {
      decisions[group] = JSON.parse(value) as FleetDecision
    } catch {
      // A field some other program wrote: the group falls back to its range's minimum.
    }
  }
  return decisions
}

// The fleet-wide count per group: fixed specs as written, ranges from the holder's decision held inside
// the range, or the range's minimum until a decision exists.
export function resolveFleetTargets(
  groups: Record<string, FleetSpec>,
  decisions: Record<string, FleetDecision>,
): Record<string, number> {
  const targets: Record<string, number> = {}
  for (const [group, spec] of Object.entries(groups)) {
    const parsed = parseFleetSpec(spec)
    if (parsed.kind === 'fixed') targets[group] = parsed.count
    else {
      const decided = decisions[group]?.count ?? parsed.min
      targets[group] = Math.min(parsed.max, Math.max(parsed.min, decided))
    }
  }
  return targets
}
