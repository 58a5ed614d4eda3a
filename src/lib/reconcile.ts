import type { Formation } from './formation.js'
import type { WorkerState } from './status-file.js'

// What reconcile needs to know of a slot; the master's slots carry more.
export interface ReconcileSlot {
  group: string
  epoch: number
  state: WorkerState
  retiring: boolean
  startedAt: Date
  job: unknown
}

export interface ReconcilePlan<S> {
  spawn: { group: string; epoch: number }[]
  // Slots with a process to stop gracefully.
  stop: S[]
  // Slots with no process (waiting in backoff) to forget at once.
  drop: S[]
}

// Which slots to stop first: ones waiting in backoff, then idle, then busy; youngest first within each.
function byStopPreference(idleKnown: boolean) {
  const rank = (slot: ReconcileSlot) => (slot.state === 'backoff' ? 0 : !idleKnown ? 1 : slot.job ? 2 : 1)
  return (a: ReconcileSlot, b: ReconcileSlot) =>
    rank(a) - rank(b) || b.startedAt.getTime() - a.startedAt.getTime()
}

// Plans the change from the slots that exist to the desired formation. Pure: it touches only groups whose
// count (or restart epoch) differs, and never counts or asks again a slot that is already stopping.
// idleKnown: workers report busy/idle (built-in workers), so idle ones can be preferred on scale-down.
export function planReconcile<S extends ReconcileSlot>(
  formation: Formation,
  epochs: Record<string, number>,
  slots: readonly S[],
  idleKnown = false,
): ReconcilePlan<S> {
  const plan: ReconcilePlan<S> = { spawn: [], stop: [], drop: [] }
  const groups = new Set([...Object.keys(formation), ...slots.map((slot) => slot.group)])
  const order = byStopPreference(idleKnown)
  const retire = (slot: S) => (slot.state === 'backoff' ? plan.drop : plan.stop).push(slot)
  for (const group of groups) {
    const want = formation[group] ?? 0
    const epoch = epochs[group] ?? 0
    const active = slots.filter((slot) => slot.group === group && !slot.retiring)
    const fresh = active.filter((slot) => slot.epoch >= epoch).sort(order)
    const stale = active.filter((slot) => slot.epoch < epoch).sort(order)
    const surplus = fresh.length - want
    if (surplus > 0) fresh.splice(0, surplus).forEach(retire)
    for (let i = fresh.length; i < want; i++) plan.spawn.push({ group, epoch })
    // Rolling restart: an old worker stops only once a new one has taken its place, so capacity never drops.
    const staleUp = stale.filter((slot) => slot.state !== 'backoff')
    stale.filter((slot) => slot.state === 'backoff').forEach(retire)
    const freshUp = fresh.filter((slot) => slot.state === 'running').length
    const stoppable = Math.min(staleUp.length, freshUp + staleUp.length - want)
    if (stoppable > 0) staleUp.slice(0, stoppable).forEach(retire)
  }
  return plan
}
