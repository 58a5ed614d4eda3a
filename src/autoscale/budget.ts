// One group as the budget sees it. For a manual group, want is its fixed count and min/max are ignored.
export interface BudgetGroup {
  name: string
  automatic: boolean
  min: number
  max: number
  // What the autoscaling policy (or the manual count) asks for.
  want: number
  // Its live workers now (starting and running, not those already stopping).
  current: number
  idle: number
  // Estimated queue latency in seconds; null when not known yet.
  latency: number | null
  targetLatency: number
}

export interface BudgetAllocation {
  counts: Record<string, number>
  reasons: Record<string, string>
}

// A group's workers count this much more urgent than a worker it would gain, so a worker moves
// between groups only when the other is clearly worse off, not on every wobble of the estimates.
export const KEEP_BONUS = 1.25

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

// What the groups need at the least: every manual count plus every automatic minimum.
export function budgetFloor(groups: readonly Pick<BudgetGroup, 'automatic' | 'min' | 'want'>[]): {
  manual: number
  minimums: number
} {
  let manual = 0
  let minimums = 0
  for (const group of groups) {
    if (group.automatic) minimums += group.min
    else manual += group.want
  }
  return { manual, minimums }
}

// Refuses, at config time, a budget that cannot hold the manual counts and automatic minimums.
export function validateBudget(
  groups: readonly Pick<BudgetGroup, 'automatic' | 'min' | 'want'>[],
  maxTotal: number,
): void {
  if (!Number.isInteger(maxTotal) || maxTotal < 0)
    throw new Error(
      `bad --max-total ${JSON.stringify(String(maxTotal))}: use a whole number of workers, e.g. 8`,
    )
  const { manual, minimums } = budgetFloor(groups)
  if (manual + minimums > maxTotal)
    throw new Error(
      `--max-total ${maxTotal} is too small: manual groups take ${manual} and automatic minimums ${minimums} (${manual + minimums}); raise --max-total or lower a count`,
    )
}

function latencyRatio(group: BudgetGroup): number {
  return group.latency === null ? 1 : group.latency / Math.max(group.targetLatency, 1e-9)
}

// Latency over target a group is projected to have with `count` workers, measured at its current count:
// a queue drains in proportion to its workers, so latency scales by current / count. A group with no
// workers yet is measured as if it had one; one with a backlog and no workers never drains (Infinity).
function projectedRatio(group: BudgetGroup, count: number): number {
  const ratio = latencyRatio(group)
  if (ratio === 0) return 0
  if (count === 0) return Infinity
  return (ratio * Math.max(group.current, 1)) / count
}

function describeRatio(group: BudgetGroup): string {
  return group.latency === null ? 'latency unknown' : `latency ${latencyRatio(group).toFixed(1)}x target`
}

// Splits maxTotal workers between the groups. Manual groups keep their fixed count; every automatic group
// gets its minimum; if what the automatic groups want (clamped to their bounds) fits in the rest, each gets
// it. Otherwise the rest is handed out one worker at a time, each to the group with the highest projected
// latency/target ratio with what it holds so far (see projectedRatio; KEEP_BONUS when the next worker is one
// it already runs; 0 for the workers it holds idle) among those still under their want;
// ties go to the higher measured ratio, then by name. Throws if the budget cannot hold the floor
// (validateBudget refuses that at config time).
export function allocateBudget(groups: readonly BudgetGroup[], maxTotal: number): BudgetAllocation {
  validateBudget(groups, maxTotal)
  const counts: Record<string, number> = {}
  const reasons: Record<string, string> = {}
  const automatic = groups.filter((group) => group.automatic).sort(byName)
  let left = maxTotal
  for (const group of groups) {
    if (group.automatic) continue
    counts[group.name] = group.want
    reasons[group.name] = `manual, fixed at ${group.want}`
    left -= group.want
  }
  const wants = new Map<string, number>()
  let wanted = 0
  for (const group of automatic) {
    const want = Math.min(Math.max(group.want, group.min), group.max)
    wants.set(group.name, want)
    counts[group.name] = group.min
    left -= group.min
    wanted += want - group.min
  }
  if (wanted <= left) {
    for (const group of automatic) {
      counts[group.name] = wants.get(group.name)!
      reasons[group.name] = `wants ${counts[group.name]}, within the budget of ${maxTotal}`
    }
    return { counts, reasons }
  }

  const priority = (group: BudgetGroup): number => {
    const count = counts[group.name]!
    // Workers a group now holds idle have nothing to do: they are the first a busier group may take.
    if (group.idle > 0 && count >= group.current - group.idle) return 0
    return projectedRatio(group, count) * (count < group.current ? KEEP_BONUS : 1)
  }
  for (; left > 0; left--) {
    let best: BudgetGroup | undefined
    let bestPriority = -Infinity
    for (const group of automatic) {
      if (counts[group.name]! >= wants.get(group.name)!) continue
      const value = priority(group)
      // Equal priorities (two groups at zero): the higher measured ratio, then the name.
      if (
        value > bestPriority ||
        (value === bestPriority && best && latencyRatio(group) > latencyRatio(best))
      ) {
        best = group
        bestPriority = value
      }
    }
    if (!best) break
    counts[best.name]! += 1
  }
  for (const group of automatic) {
    const count = counts[group.name]!
    const want = wants.get(group.name)!
    reasons[group.name] =
      count >= want
        ? `wants ${want}, gets it (${describeRatio(group)}) under the budget of ${maxTotal}`
        : count === group.min
          ? `wants ${want}, kept at its minimum ${count}: the budget of ${maxTotal} went to worse queues (${describeRatio(group)})`
          : `wants ${want}, gets ${count} of the budget of ${maxTotal} (${describeRatio(group)})`
  }
  return { counts, reasons }
}

// How many workers may be spawned now: the live ones (starting, running and still stopping) never exceed
// maxTotal at any instant, so a growing group spawns only as the shrinking group's workers actually exit.
export function spawnAllowance(total: number, maxTotal: number): number {
  return Math.max(0, maxTotal - total)
}

// Shares a spawn allowance between groups short of their allocation, in the order given (most urgent first),
// one worker at a time round the groups, so no group waits for another's whole deficit.
export function shareSpawns(
  allowance: number,
  deficits: readonly { name: string; missing: number }[],
): Record<string, number> {
  const spawns: Record<string, number> = {}
  const open = deficits.filter((deficit) => deficit.missing > 0).map((deficit) => ({ ...deficit }))
  for (let left = allowance; left > 0 && open.length > 0;) {
    for (const deficit of open) {
      if (left === 0) break
      if (deficit.missing === 0) continue
      spawns[deficit.name] = (spawns[deficit.name] ?? 0) + 1
      deficit.missing -= 1
      left -= 1
    }
    for (let i = open.length - 1; i >= 0; i--) if (open[i]!.missing === 0) open.splice(i, 1)
  }
  return spawns
}
