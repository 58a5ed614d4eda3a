import { formatBytes, formatDuration, resolveSize, type Size } from './units.js'

export type GuardName = 'max-load' | 'min-free-mem'

// One look at the host: the 1-minute load average, its cores, and /proc/meminfo's MemAvailable and MemTotal.
export interface HostReading {
  at: number
  load1: number
  cores: number
  memAvailable: number
  memTotal: number
}

export interface GuardSettings {
  // 1-minute load average per core; undefined: no load guard.
  maxLoad?: number
  // MemAvailable floor; undefined: no memory guard.
  minFreeMem?: Size
  guardAfterSeconds: number
}

export interface GuardState {
  // When each guard's reading first went over its limit (ms), while it stays over.
  overSince: Partial<Record<GuardName, number>>
  lastShedAt?: number
  lastShedGuard?: GuardName
}

export interface GuardDecision {
  state: GuardState
  vetoUp: GuardName | undefined
  shed: GuardName | undefined
  reason: string
}

export const DEFAULT_GUARD_AFTER_SECONDS = 30
// A reading older than this says nothing about the host now.
export const STALE_READING_MS = 10_000
// Memory first: running out of it kills processes, too much load only slows them.
const GUARD_ORDER: readonly GuardName[] = ['min-free-mem', 'max-load']

export function createGuardState(): GuardState {
  return { overSince: {} }
}

export function hasGuards(settings: GuardSettings): boolean {
  return settings.maxLoad !== undefined || settings.minFreeMem !== undefined
}

// Why a guard is over its limit, or undefined when the reading is within it.
function describeBreach(guard: GuardName, reading: HostReading, settings: GuardSettings): string | undefined {
  if (guard === 'max-load') {
    if (settings.maxLoad === undefined) return undefined
    const perCore = reading.load1 / Math.max(1, reading.cores)
    if (perCore <= settings.maxLoad) return undefined
    return `load ${perCore.toFixed(2)} per core (${reading.load1.toFixed(2)} on ${reading.cores} cores) > ${settings.maxLoad} limit`
  }
  if (settings.minFreeMem === undefined) return undefined
  const floor = resolveSize(settings.minFreeMem, reading.memTotal)
  if (reading.memAvailable >= floor) return undefined
  return `${formatBytes(reading.memAvailable)} available < ${formatBytes(floor)} floor`
}

function describeHealthy(reading: HostReading, settings: GuardSettings): string {
  const parts: string[] = []
  if (settings.minFreeMem !== undefined)
    parts.push(
      `${formatBytes(reading.memAvailable)} available >= ${formatBytes(resolveSize(settings.minFreeMem, reading.memTotal))}`,
    )
  if (settings.maxLoad !== undefined)
    parts.push(
      `load ${(reading.load1 / Math.max(1, reading.cores)).toFixed(2)} per core <= ${settings.maxLoad}`,
    )
  return parts.join(', ')
}

// Decides from one host reading whether scale-ups are vetoed and whether one worker is shed now.
// Over a limit: every scale-up is vetoed. Over it for guardAfter with no shed in that time: shed one worker,
// and the clock restarts, so load never stays over the limit for longer than guardAfter without the pool
// shedding one more. After a shed, scale-ups stay vetoed until guardAfter has passed since it, so the
// autoscaler does not start the shed worker again while the load average still carries it.
export function evaluateGuards(
  state: GuardState,
  reading: HostReading | undefined,
  settings: GuardSettings,
  now: number,
): GuardDecision {
  const guardAfterMs = settings.guardAfterSeconds * 1000
  if (!hasGuards(settings)) return { state, vetoUp: undefined, shed: undefined, reason: 'no host guards' }
  // Without a fresh reading (no /proc, or a failed read) the guards hold their clocks and veto nothing.
  if (reading === undefined || now - reading.at > STALE_READING_MS)
    return { state, vetoUp: undefined, shed: undefined, reason: 'host readings unavailable: guards paused' }

  const overSince: GuardState['overSince'] = {}
  const breaches: { guard: GuardName; why: string }[] = []
  for (const guard of GUARD_ORDER) {
    const why = describeBreach(guard, reading, settings)
    if (why === undefined) continue
    overSince[guard] = state.overSince[guard] ?? now
    breaches.push({ guard, why })
  }
  const next: GuardState = { ...state, overSince }

  for (const { guard, why } of breaches) {
    const clockFrom = Math.max(overSince[guard]!, state.lastShedAt ?? -Infinity)
    if (now - clockFrom < guardAfterMs) continue
    const held = formatDuration((now - overSince[guard]!) / 1000)
    return {
      state: { ...next, lastShedAt: now, lastShedGuard: guard },
      vetoUp: guard,
      shed: guard,
      reason: `${guard}: ${why} for ${held}: shed one worker`,
    }
  }
  const first = breaches[0]
  if (first) {
    const shedIn = formatDuration(
      (Math.max(overSince[first.guard]!, state.lastShedAt ?? -Infinity) + guardAfterMs - now) / 1000,
    )
    return {
      state: next,
      vetoUp: first.guard,
      shed: undefined,
      reason: `${first.guard}: ${first.why}: no scale-up (shed in ${shedIn} if it stays over)`,
    }
  }
  if (
    state.lastShedAt !== undefined &&
    state.lastShedGuard !== undefined &&
    now - state.lastShedAt < guardAfterMs
  ) {
    const ago = formatDuration((now - state.lastShedAt) / 1000)
    return {
      state: next,
      vetoUp: state.lastShedGuard,
      shed: undefined,
      reason: `${state.lastShedGuard}: recovering, last shed ${ago} ago: no scale-up for ${formatDuration(settings.guardAfterSeconds)} after a shed`,
    }
  }
  return {
    state: next,
    vetoUp: undefined,
    shed: undefined,
    reason: `within limits: ${describeHealthy(reading, settings)}`,
  }
}

export interface ShedCandidate {
  name: string
  min: number
  current: number
  idle: number
}

// The automatic group that loses one worker to a guard: above its minimum; a group with an idle worker first
// (most idle first, so no job is cut short), then the one furthest above its minimum; ties by name.
export function chooseShed(groups: readonly ShedCandidate[]): string | undefined {
  const candidates = groups.filter((group) => group.current > group.min)
  candidates.sort(
    (a, b) =>
      Number(b.idle > 0) - Number(a.idle > 0) ||
      b.idle - a.idle ||
      b.current - b.min - (a.current - a.min) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  )
  return candidates[0]?.name
}

export type RssStep = 'quit' | 'term' | 'kill'
// How a worker's memory was read: PSS (proportional, from smaps_rollup) or, where that is unreadable, RSS.
export type MemoryKind = 'PSS' | 'RSS'

export interface RssSettings {
  // Bytes a worker's process tree may hold.
  maxRss: number
  // Consecutive samples over maxRss before QUIT, and again (after the grace) before TERM.
  samples: number
  // After QUIT, how long the tree may stay over maxRss (finishing its job) before TERM.
  graceMs: number
  // After TERM, how long the worker may take to exit before KILL.
  killAfterMs: number
}

export interface RssSample {
  pid: number
  // The tree's memory in bytes; undefined: this sample could not be read, and the worker's state holds.
  bytes: number | undefined
  // How many processes the tree had (the worker and its descendants), and how they were read.
  processes?: number
  kind?: MemoryKind
}

export interface RssWorkerState {
  // Consecutive samples over the limit since the last step.
  count: number
  step?: RssStep
  stepAt?: number
}

export type RssState = Record<number, RssWorkerState>

export interface RssAction {
  pid: number
  step: RssStep
  reason: string
}

// TERM asks a Resque worker to exit now (its job child too); one still alive this long after is stuck.
export const RSS_KILL_AFTER_MS = 10_000

// The escalation, one row per step a worker is at: the step that follows, how long after this one it may
// come at the earliest, and whether it also needs the tree over the limit for the last `samples` samples.
const ESCALATION: Record<
  RssStep | 'none',
  { next?: RssStep; waitMs: (s: RssSettings) => number; over: boolean }
> = {
  none: { next: 'quit', waitMs: () => 0, over: true },
  quit: { next: 'term', waitMs: (s) => s.graceMs, over: true },
  term: { next: 'kill', waitMs: (s) => s.killAfterMs, over: false },
  kill: { waitMs: () => Infinity, over: false },
}

function describeTree(sample: RssSample, still = ''): string {
  const others = (sample.processes ?? 1) - 1
  const tree = others > 0 ? ` and ${others} descendant${others === 1 ? '' : 's'}` : ''
  const kind = sample.kind ? ` ${sample.kind}` : ''
  return `worker ${sample.pid}${tree} ${still}at ${formatBytes(sample.bytes ?? 0)}${kind}`
}

function describeStep(
  step: RssStep,
  sample: RssSample,
  count: number,
  waited: number,
  settings: RssSettings,
): string {
  const limit = formatBytes(settings.maxRss)
  const after = formatDuration(waited / 1000)
  if (step === 'quit')
    return `max-rss: ${describeTree(sample)} > ${limit} for ${count} samples: QUIT (stop after its job)`
  if (step === 'term')
    return `max-rss: ${describeTree(sample, 'still ')} > ${limit} ${after} after QUIT (grace ${formatDuration(settings.graceMs / 1000)}): TERM`
  return `max-rss: ${describeTree(sample)} (limit ${limit}) still alive ${after} after TERM: KILL`
}

// Decides, per sample of each worker's process-tree memory, which workers get which stop signal:
// `samples` consecutive samples over maxRss -> QUIT (stop after the current job). After QUIT the worker
// has graceMs to finish its job; TERM only once that has passed and the tree has been over the limit for
// the last `samples` samples, so a worker back under the limit finishes its job (QUIT is never taken
// back). KILL once killAfterMs has passed since TERM, whatever its size. A pid missing from the samples
// has exited and is forgotten.
export function evaluateRss(
  state: RssState,
  samples: readonly RssSample[],
  settings: RssSettings,
  now: number,
): { state: RssState; actions: RssAction[] } {
  const next: RssState = {}
  const actions: RssAction[] = []
  const needed = Math.max(1, settings.samples)
  for (const sample of samples) {
    const before = state[sample.pid] ?? { count: 0 }
    if (sample.bytes === undefined) {
      next[sample.pid] = before
      continue
    }
    const count = sample.bytes > settings.maxRss ? before.count + 1 : 0
    const row = ESCALATION[before.step ?? 'none']
    const waited = before.stepAt === undefined ? 0 : now - before.stepAt
    const ready = row.next !== undefined && waited >= row.waitMs(settings) && (!row.over || count >= needed)
    if (!ready) {
      next[sample.pid] = { ...before, count }
      continue
    }
    const step = row.next!
    next[sample.pid] = { count: 0, step, stepAt: now }
    actions.push({ pid: sample.pid, step, reason: describeStep(step, sample, count, waited, settings) })
  }
  return { state: next, actions }
}
