// Every Redis key a fleet uses, under one documented prefix (`rpd:fleet:NAME:`), beside Resque's own keys.
export const DEFAULT_FLEET_PREFIX = 'rpd'

export interface FleetKeys {
  // String per member, JSON {host, pid, weight, startedAt, beatAt, running}, expiring unless re-beaten.
  member: (id: string) => string
  // Sorted set of member ids scored by their last beat (ms); entries whose member key expired are stale.
  members: string
  // Pub/sub channel: JSON {type: 'join' | 'leave' | 'formation' | 'decision', ...}.
  events: string
  // String `TOKEN:HOLDER`, the autoscaling lease, with a PX expiry.
  lease: string
  // Counter handing out fencing tokens, one per lease acquired.
  leaseToken: string
  // Hash group -> spec (`12`, `0..20`), the fleet's desired formation.
  formation: string
  // Counter bumped by every formation change.
  formationGeneration: string
  // Hash group -> JSON {count, holder, token, decidedAt}, the lease holder's numbers for automatic groups.
  decisions: string
  // Highest fencing token that ever wrote a decision; lower ones are refused.
  decisionsToken: string
}

export function checkFleetName(fleet: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(fleet))
    throw new RangeError(`bad fleet name ${JSON.stringify(fleet)}; use letters, digits, '.', '_' or '-'`)
}

export function fleetKeys(fleet: string, prefix: string = DEFAULT_FLEET_PREFIX): FleetKeys {
  checkFleetName(fleet)
  const base = `${prefix}:fleet:${fleet}`
  return {
    member: (id) => `${base}:member:${id}`,
    members: `${base}:members`,
    events: `${base}:events`,
    lease: `${base}:lease`,
    leaseToken: `${base}:lease:token`,
    formation: `${base}:formation`,
    formationGeneration: `${base}:formation:generation`,
    decisions: `${base}:decisions`,
    decisionsToken: `${base}:decisions:token`,
  }
}
