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

export interface RssSettings {
  // Bytes of resident memory a worker may hold.
  maxRss: number
  // Consecutive samples over maxRss before QUIT, and again before each further step.
  samples: number
}

export interface RssSample {
  pid: number
  // undefined: this sample could not be read; the worker's count holds.
  rss: number | undefined
}

export interface RssWorkerState {
  // Consecutive samples counted toward the next step.
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

const NEXT_STEP: Record<RssStep | 'none', RssStep | undefined> = {
  none: 'quit',
  quit: 'term',
  term: 'kill',
  kill: undefined,
}

// Decides, per sample of the workers' RSS, which workers get which stop signal:
// `samples` consecutive samples over maxRss -> QUIT (stop after the current job). Once asked, a worker
// that stays over for `samples` more samples -> TERM; one still alive `samples` samples after TERM -> KILL.
// A sample at or under the limit before TERM resets the count (a worker back under the limit may finish its
// job after QUIT); QUIT is never taken back. A pid missing from the samples has exited and is forgotten.
export function evaluateRss(
  state: RssState,
  samples: readonly RssSample[],
  settings: RssSettings,
  now: number,
): { state: RssState; actions: RssAction[] } {
  const next: RssState = {}
  const actions: RssAction[] = []
  const limit = formatBytes(settings.maxRss)
  const needed = Math.max(1, settings.samples)
  for (const { pid, rss } of samples) {
    const before = state[pid] ?? { count: 0 }
    if (rss === undefined) {
      next[pid] = before
      continue
    }
    const over = rss > settings.maxRss
    // After TERM a worker is on its way out whatever its RSS; every sample it is still alive counts.
    const counts = over || before.step === 'term'
    const count = counts ? before.count + 1 : 0
    const step = NEXT_STEP[before.step ?? 'none']
    if (step === undefined || count < needed) {
      next[pid] = { ...before, count }
      continue
    }
    next[pid] = { count: 0, step, stepAt: now }
    const seen = `${formatBytes(rss)} > ${limit}`
    const reason =
      step === 'quit'
        ? `max-rss: worker ${pid} at ${seen} for ${count} samples: QUIT (stop after its job)`
        : step === 'term'
          ? `max-rss: worker ${pid} still at ${seen} ${count} samples after QUIT: TERM`
          : `max-rss: worker ${pid} still alive ${count} samples after TERM (${formatBytes(rss)}): KILL`
    actions.push({ pid, step, reason })
  }
  return { state: next, actions }
}
