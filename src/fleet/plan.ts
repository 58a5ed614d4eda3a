// What one member runs, from what it last saw of the fleet. Pure: the caller brings the listing.
import { computeShares, planTransition, type Shares } from './shares.js'

export interface PlanMember {
  id: string
  weight: number
  running: Record<string, number>
}

export interface PlanInput {
  selfId: string
  // The live members as last listed, this member included when Redis has it.
  members: readonly PlanMember[]
  // The fleet's count per group (fixed specs and the holder's decisions, resolved).
  targets: Record<string, number>
  // What this member runs now.
  running: Record<string, number>
}

export interface MemberPlan {
  // False when this member is not among the live members: it keeps what it runs and decides nothing.
  inFleet: boolean
  shares: Shares
  share: Record<string, number>
  counts: Record<string, number>
}

export function planMember(input: PlanInput): MemberPlan {
  const self = input.members.find((member) => member.id === input.selfId)
  if (!self) return { inFleet: false, shares: {}, share: {}, counts: { ...input.running } }
  const shares = computeShares(input.members, input.targets)
  const othersRunning: Record<string, number> = {}
  for (const member of input.members) {
    if (member.id === input.selfId) continue
    for (const [group, count] of Object.entries(member.running))
      othersRunning[group] = (othersRunning[group] ?? 0) + count
  }
  const share = shares[input.selfId]!
  const counts = planTransition({ share, running: input.running, othersRunning, formation: input.targets })
  return { inFleet: true, shares, share, counts }
}
