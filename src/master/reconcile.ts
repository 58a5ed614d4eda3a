import type { Formation } from '../state/formation.js'
import type { WorkerState } from '../state/status-file.js'

// What reconcile needs to know of a slot; the master's slots carry more.
export interface ReconcileSlot {
  group: string
  epoch: number
  state: WorkerState
  retiring: boolean
  startedAt: Date
}

// Whether a slot's worker is busy with a job: true or false where the master can tell, else undefined.
export type BusyOf<S> = (slot: S) => boolean | undefined

export interface ReconcilePlan<S> {
  spawn: { group: string; epoch: number }[]
  // Slots with a process to stop gracefully.
  stop: S[]
  // Slots with no process (waiting in backoff) to forget at once.
  drop: S[]
}

// Which slots to stop first: ones waiting in backoff, then idle, then those nobody knows about, then busy;
// youngest first within each. Each slot is asked about once (the master may read /proc for it).
function byStopPreference<S extends ReconcileSlot>(busyOf: BusyOf<S>) {
  const ranks = new Map<S, number>()
  const rank = (slot: S) => {
    let known = ranks.get(slot)
    if (known === undefined) {
      const busy = slot.state === 'backoff' ? undefined : busyOf(slot)
      known = slot.state === 'backoff' ? 0 : busy === false ? 1 : busy === undefined ? 2 : 3
      ranks.set(slot, known)
    }
    return known
  }
  return (a: S, b: S) => rank(a) - rank(b) || b.startedAt.getTime() - a.startedAt.getTime()
}

// Plans the change from the slots that exist to the desired formation. Pure: it touches only groups whose
// count (or restart epoch) differs, and never counts or asks again a slot that is already stopping.
// busyOf tells which workers are busy, so that scale-down and restart stop idle ones first. In a group
// keepBusy names (an automatic one), a scale-down never stops a worker known to be busy.
export function planReconcile<S extends ReconcileSlot>(
  formation: Formation,
  epochs: Record<string, number>,
  slots: readonly S[],
  busyOf: BusyOf<S> = () => undefined,
  keepBusy: (group: string) => boolean = () => false,
): ReconcilePlan<S> {
  const plan: ReconcilePlan<S> = { spawn: [], stop: [], drop: [] }
  const groups = new Set([...Object.keys(formation), ...slots.map((slot) => slot.group)])
  const order = byStopPreference(busyOf)
  const retire = (slot: S) => (slot.state === 'backoff' ? plan.drop : plan.stop).push(slot)
  for (const group of groups) {
    const want = formation[group] ?? 0
    const epoch = epochs[group] ?? 0
    const active = slots.filter((slot) => slot.group === group && !slot.retiring)
    // Sorted only where something is to stop: asking whether a worker is busy may cost a read of /proc.
    const fresh = active.filter((slot) => slot.epoch >= epoch)
    const stale = active.filter((slot) => slot.epoch < epoch)
    const surplus = fresh.length - want
    if (surplus > 0) {
      const candidates = keepBusy(group)
        ? fresh.filter((slot) => slot.state === 'backoff' || busyOf(slot) !== true)
        : fresh
      candidates
        .sort(order)
        .slice(0, surplus)
        .forEach((slot) => {
          fresh.splice(fresh.indexOf(slot), 1)
          retire(slot)
        })
    }
    for (let i = fresh.length; i < want; i++) plan.spawn.push({ group, epoch })
    // Rolling restart: an old worker stops only once a new one has taken its place, so capacity never drops.
    const staleUp = stale.filter((slot) => slot.state !== 'backoff')
    stale.filter((slot) => slot.state === 'backoff').forEach(retire)
    const freshUp = fresh.filter((slot) => slot.state === 'running').length
    const stoppable = Math.min(staleUp.length, freshUp + staleUp.length - want)
    if (stoppable > 0) staleUp.sort(order).slice(0, stoppable).forEach(retire)
  }
  return plan
}
