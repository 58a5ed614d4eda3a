// How a fleet's worker counts split across its members. Pure: every member computes the same answer
// from the same sorted member list, so no member waits on another to decide.

export interface ShareMember {
  id: string
  weight: number
}

// memberId -> group -> workers that member runs.
export type Shares = Record<string, Record<string, number>>

// Ties in remainders are compared with this slack so 0.1 + 0.2 style float noise never decides a worker.
const REMAINDER_EPSILON = 1e-9

// Plain code-unit order, identical on every host whatever its locale.
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function sortMembers<T extends ShareMember>(members: readonly T[]): T[] {
  return [...members].sort((a, b) => compareIds(a.id, b.id))
}

function checkInputs(members: readonly ShareMember[], formation: Record<string, number>): void {
  const seen = new Set<string>()
  for (const member of members) {
    if (seen.has(member.id)) throw new RangeError(`member ${JSON.stringify(member.id)} is listed twice`)
    seen.add(member.id)
    if (!Number.isFinite(member.weight) || member.weight < 0)
      throw new RangeError(
        `member ${JSON.stringify(member.id)} has weight ${member.weight}; use a number >= 0`,
      )
  }
  for (const [group, count] of Object.entries(formation)) {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(
        `group ${JSON.stringify(group)} asks for ${count} workers; use a whole number >= 0`,
      )
  }
}

// Largest-remainder apportionment per group by weight. Members with equal remainders take the extra
// workers in turn: a cursor carried from group to group starts each group's remainders at the member
// after the last one served, so one member does not collect every extra worker.
export function computeShares(members: readonly ShareMember[], formation: Record<string, number>): Shares {
  checkInputs(members, formation)
  const sorted = sortMembers(members)
  const shares: Shares = {}
  for (const member of sorted) shares[member.id] = {}
  const totalWeight = sorted.reduce((sum, member) => sum + member.weight, 0)
  const groups = Object.keys(formation).sort(compareIds)
  const size = sorted.length
  let cursor = 0
  for (const group of groups) {
    const count = formation[group]!
    if (totalWeight <= 0) {
      for (const member of sorted) shares[member.id]![group] = 0
      continue
    }
    const quotas = sorted.map((member) => (count * member.weight) / totalWeight)
    const floors = quotas.map((quota) => Math.floor(quota + REMAINDER_EPSILON))
    let left = count - floors.reduce((sum, value) => sum + value, 0)
    const order = sorted
      .map((member, index) => ({ index, fraction: quotas[index]! - floors[index]!, weight: member.weight }))
      .filter((entry) => entry.weight > 0)
      .sort((a, b) => {
        if (Math.abs(a.fraction - b.fraction) > REMAINDER_EPSILON) return b.fraction - a.fraction
        return ((a.index - cursor + size) % size) - ((b.index - cursor + size) % size)
      })
    for (const entry of order) {
      if (left <= 0) break
      floors[entry.index]! += 1
      left -= 1
      cursor = (entry.index + 1) % size
    }
    sorted.forEach((member, index) => {
      shares[member.id]![group] = floors[index]!
    })
  }
  return shares
}

// Everything one member needs to pick its worker counts for this moment of a change of shares.
export interface TransitionInput {
  // This member's share per group, from computeShares over the current live members.
  share: Record<string, number>
  // Workers this member runs now.
  running: Record<string, number>
  // Workers the other live members last reported running, summed per group.
  othersRunning: Record<string, number>
  // The fleet's target per group.
  formation: Record<string, number>
}

// The rule for a change of membership: a member above its share shrinks to it at once; a member below
// its share grows only into room the others have already left (target minus what they report running),
// so on a join the new member grows as the existing ones shrink. A group whose share did not change
// keeps its count, so its workers are not restarted. Returns the count per group to run now.
export function planTransition(input: TransitionInput): Record<string, number> {
  const groups = new Set([...Object.keys(input.share), ...Object.keys(input.running)])
  const plan: Record<string, number> = {}
  for (const group of [...groups].sort(compareIds)) {
    const share = input.share[group] ?? 0
    const running = input.running[group] ?? 0
    if (share <= running) {
      plan[group] = share
      continue
    }
    const room = (input.formation[group] ?? 0) - (input.othersRunning[group] ?? 0)
    plan[group] = Math.min(share, Math.max(running, room))
  }
  return plan
}

// The most the fleet may run of one group while shares change: the target plus the largest share any
// single member holds before or after. A member cut off from Redis whose share others took over is the
// case that reaches it.
export function transitionBound(group: string, target: number, ...sharesList: Shares[]): number {
  let largest = 0
  for (const shares of sharesList)
    for (const perGroup of Object.values(shares)) largest = Math.max(largest, perGroup[group] ?? 0)
  return target + largest
}
