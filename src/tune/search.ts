import { type UslModel, fitUsl, predictThroughput } from './usl.js'

// The search for the worker count with the most jobs per second. Pure: the caller sets the count,
// measures a window, hands the result to recordProbe and asks nextProbe what to do next.

export type Guard = 'max-load' | 'min-free-mem'
export type StopReason = 'converged' | 'max-probes' | 'guard' | 'bounds'

export type SearchOptions = {
  min: number
  max: number
  // The answer is the smallest count within this fraction of the best throughput.
  tolerance?: number
  maxProbes?: number
  // A probe is only worth its window if the model expects at least this fraction more throughput.
  minGain?: number
}

export type ProbeResult = {
  workers: number
  jobsPerSecond: number
  // Standard deviation of the window's per-second rates, jobs per second.
  spread: number
  // Set when a guard tripped during the window: this count and every larger one are over a limit.
  guardTripped?: Guard
  // Load average per core during the window.
  load: number
  // Available memory at the end of the window, bytes.
  memAvailable: number
  seconds: number
}

export type SearchState = {
  readonly min: number
  readonly max: number
  readonly tolerance: number
  readonly maxProbes: number
  readonly minGain: number
  readonly probes: readonly ProbeResult[]
  // Doubling the count from min until throughput stops rising, a guard trips or max is reached.
  readonly climbing: boolean
  // The smallest count that tripped a guard (Infinity while none has).
  readonly limit: number
  readonly guard?: Guard
  // Probes aimed at the model's peak that gained nothing: after one, the model's shape is not trusted.
  readonly peakMisses: number
  // Second windows spent on counts already measured, to settle a close call.
  readonly repeats: number
}

export type SearchDone = {
  done: true
  best: number
  stoppedBy: StopReason
  guard?: Guard
  model?: UslModel
}

export type SearchStep = { workers: number } | SearchDone

export const DEFAULT_TOLERANCE = 0.05
export const DEFAULT_MAX_PROBES = 10
export const DEFAULT_MIN_GAIN = 0.02
// Two rates differ only when they are this many standard errors of their difference apart.
export const NOISE_Z = 2
// The least relative standard error a window is taken to have: the load of other work on the host
// drifts between windows in ways one window's per-second counts do not show.
export const NOISE_FLOOR = 0.02
// At most this many windows go to counts measured before: each costs as much as a new count.
export const MAX_REPEATS = 1

export function startSearch(options: SearchOptions): SearchState {
  const { min, max } = options
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE
  const maxProbes = options.maxProbes ?? DEFAULT_MAX_PROBES
  const minGain = options.minGain ?? DEFAULT_MIN_GAIN
  if (!Number.isInteger(min) || min < 1)
    throw new RangeError(`--min must be a whole number of at least 1, not ${min}`)
  if (!Number.isInteger(max) || max < min)
    throw new RangeError(`--max must be a whole number of at least --min (${min}), not ${max}`)
  if (!(tolerance >= 0 && tolerance < 1))
    throw new RangeError(`--tolerance must be a fraction from 0 to below 1, not ${tolerance}`)
  if (!Number.isInteger(maxProbes) || maxProbes < 1)
    throw new RangeError(`the probe budget must be at least 1, not ${maxProbes}`)
  if (!(minGain >= 0)) throw new RangeError(`the minimum gain must not be negative, not ${minGain}`)
  return {
    min,
    max,
    tolerance,
    maxProbes,
    minGain,
    probes: [],
    climbing: true,
    limit: Infinity,
    peakMisses: 0,
    repeats: 0,
  }
}

export function recordProbe(state: SearchState, probe: ProbeResult): SearchState {
  const before = topEstimate(state)
  const planned = state.probes.length ? planNext(state, upperBound(state)) : undefined
  const repeat = state.probes.some((p) => p.workers === probe.workers)
  const probes = [...state.probes, probe]
  const tripped = probe.guardTripped !== undefined && probe.workers < state.limit
  const limit = tripped ? probe.workers : state.limit
  const guard = tripped ? probe.guardTripped : state.guard
  const now = estimateOf(probe)
  const gained = !before || clearlyAbove(now, before, state.minGain)
  const missed = planned?.kind === 'peak' && planned.workers === probe.workers && !gained
  const stillRising = !probe.guardTripped && probe.workers < upperBound({ ...state, limit }) && gained
  return {
    ...state,
    probes,
    limit,
    guard,
    climbing: state.climbing && stillRising,
    peakMisses: state.peakMisses + (missed ? 1 : 0),
    repeats: state.repeats + (repeat ? 1 : 0),
  }
}

export function nextProbe(state: SearchState): SearchStep {
  const top = upperBound(state)
  if (top < state.min) return finish(state, 'guard')
  const workers = state.probes.length === 0 ? state.min : planNext(state, top)?.workers
  if (workers === undefined) {
    if (state.limit !== Infinity) return finish(state, 'guard')
    return finish(state, isStillRising(state) ? 'bounds' : 'converged')
  }
  if (state.probes.length >= state.maxProbes) return finish(state, 'max-probes')
  return { workers }
}

// The smallest count within tolerance of the best throughput under every limit, each count's rate
// pooled over every window measured at it.
export function chooseBest(state: Pick<SearchState, 'min' | 'probes' | 'tolerance' | 'limit'>): number {
  return rankCounts(state)?.answer.workers ?? state.min
}

function finish(state: SearchState, stoppedBy: StopReason): SearchDone {
  const model = fitUsl(state.probes)
  return {
    done: true,
    best: chooseBest(state),
    stoppedBy,
    ...(state.guard ? { guard: state.guard } : {}),
    ...(model ? { model } : {}),
  }
}

// The best measured count is max and nothing says the curve turns down before it: a higher --max may pay.
function isStillRising(state: SearchState): boolean {
  if (topEstimate(state)?.workers !== state.max) return false
  const model = fitUsl(state.probes)
  return !model || model.peak > state.max
}

function upperBound(state: Pick<SearchState, 'max' | 'limit'>): number {
  return Math.min(state.max, state.limit - 1)
}

type Plan = { workers: number; kind: 'climb' | 'peak' | 'smaller' | 'repeat' }

function planNext(state: SearchState, top: number): Plan | undefined {
  const probed = new Set(state.probes.map((p) => p.workers))
  if (state.climbing) {
    const next = Math.min(top, Math.max(...probed) * 2)
    if (!probed.has(next)) return { workers: next, kind: 'climb' }
  }
  const ranked = rankCounts(state)
  if (!ranked) return undefined
  const model = fitUsl(state.probes)
  const peak = state.peakMisses === 0 ? pickTowardsPeak(state, top, probed, ranked, model) : undefined
  if (peak !== undefined) return { workers: peak, kind: 'peak' }
  const smaller = pickSmaller(state, probed, ranked, model)
  if (smaller !== undefined) return { workers: smaller, kind: 'smaller' }
  const repeat = pickRepeat(state, ranked)
  return repeat === undefined ? undefined : { workers: repeat, kind: 'repeat' }
}

// Between the best count and its probed neighbours, the count the model rates highest, if it
// expects enough gain to be worth a window: enough to move the answer (a rate the answer is no
// longer within tolerance of), by more than the noise of one window. The gain is read off the
// model's own curve, as a ratio to its value at the best count: a biased fit (a hard plateau)
// still has the right shape. Near a peak the curve is concave, so the lines through the probed
// neighbours bound what the count can reach, as for smaller counts.
function pickTowardsPeak(
  state: SearchState,
  top: number,
  probed: ReadonlySet<number>,
  ranked: Ranking,
  model: UslModel | undefined,
): number | undefined {
  if (!model) return undefined
  const best = ranked.top
  const below = [...probed].filter((n) => n < best.workers)
  const above = [...probed].filter((n) => n > best.workers)
  const from = Math.max(state.min, below.length ? Math.max(...below) + 1 : state.min)
  // Halfway to a tripped count at most: the model knows throughput, not load or memory.
  const underLimit = state.limit === Infinity ? top : Math.floor((best.workers + state.limit) / 2)
  const to = Math.min(top, underLimit, above.length ? Math.min(...above) - 1 : top)
  let pick: number | undefined
  // A gain smaller than the noise of one window could not be seen if it were there.
  const noise = Math.max(state.minGain, (NOISE_Z * best.error) / best.rate)
  const moves = ranked.answer.rate / ((1 - state.tolerance) * best.rate)
  let pickRate = predictThroughput(model, best.workers) * moves * (1 + noise)
  // A count the lines through its probed neighbours keep below the rate that moves the answer
  // cannot move it, whatever the fit says.
  const moving = ranked.answer.rate / (1 - state.tolerance)
  for (let n = from; n <= to; n++) {
    if (probed.has(n) || concaveBound(ranked.estimates, n) < moving) continue
    const rate = predictThroughput(model, n)
    if (rate >= pickRate) {
      pick = n
      pickRate = rate
    }
  }
  return pick
}

// Narrows the gap below the current answer: a smaller count may also be good enough. Throughput
// against workers is concave up to its peak (each added worker adds no more than the one before),
// so a count between two measured ones can read no higher than the lines through the measured
// neighbours on either side, extended towards it; (0, 0) counts as measured. Only counts that such
// a bound, plus one standard error, lets reach the tolerance are worth a window. Among them the
// model's pick is tried first, else the middle one.
function pickSmaller(
  state: SearchState,
  probed: ReadonlySet<number>,
  ranked: Ranking,
  model: UslModel | undefined,
): number | undefined {
  const answer = ranked.answer.workers
  const below = [...probed].filter((n) => n < answer)
  const floor = below.length ? Math.max(...below) : state.min - 1
  if (answer - floor <= 1) return undefined
  const threshold = (1 - state.tolerance) * ranked.top.rate
  const candidates: number[] = []
  for (let n = floor + 1; n < answer; n++)
    if (concaveBound(ranked.estimates, n) >= threshold) candidates.push(n)
  if (candidates.length === 0) return undefined
  const modelPick = model && candidates.find((n) => predictThroughput(model, n) >= threshold)
  return modelPick ?? candidates[Math.floor((candidates.length - 1) / 2)]
}

// The most a concave curve through the measured estimates can reach at an unmeasured count n, plus
// one standard error of that extrapolation; Infinity when no line bounds it.
export function concaveBound(
  estimates: readonly { workers: number; rate: number; error: number }[],
  n: number,
): number {
  const origin = { workers: 0, rate: 0, error: 0 }
  const left = [origin, ...estimates.filter((e) => e.workers < n)].slice(-2)
  const right = estimates.filter((e) => e.workers > n).slice(0, 2)
  let bound = Infinity
  for (const [a, b] of [left, right]) {
    if (!a || !b) continue
    const slope = (b.rate - a.rate) / (b.workers - a.workers)
    const near = Math.abs(n - a.workers) < Math.abs(n - b.workers) ? a : b
    bound = Math.min(bound, near.rate + slope * (n - near.workers) + Math.hypot(a.error, b.error))
  }
  return bound
}

// A close call settled by a second window: a count below the answer missed the tolerance by no
// more than the noise of the two measurements. The best count is measured again first, since the
// highest of several noisy readings tends to read high; then the smaller count.
function pickRepeat(state: SearchState, ranked: Ranking): number | undefined {
  if (state.repeats >= MAX_REPEATS) return undefined
  const close = ranked.estimates.find(
    (e) => e.workers < ranked.answer.workers && reaches(e, ranked.top, state.tolerance, NOISE_Z),
  )
  if (!close) return undefined
  for (const e of [ranked.top, close]) if (e.windows === 1 && e.workers <= upperBound(state)) return e.workers
  return undefined
}

// One count's throughput over every window measured at it, with its standard error.
type Estimate = { workers: number; rate: number; error: number; windows: number }

type Ranking = { estimates: Estimate[]; top: Estimate; answer: Estimate }

function estimateOf(probe: ProbeResult): Estimate {
  return combine(probe.workers, [probe])
}

function combine(workers: number, windows: readonly ProbeResult[]): Estimate {
  const weights = windows.map((p) => Math.max(p.seconds, 1))
  const total = weights.reduce((sum, w) => sum + w, 0)
  const rate = windows.reduce((sum, p, i) => sum + weights[i] * p.jobsPerSecond, 0) / total
  const variance = windows.reduce((sum, p, i) => {
    const error = Math.max(p.spread / Math.sqrt(weights[i]), NOISE_FLOOR * Math.abs(p.jobsPerSecond))
    return sum + (weights[i] * error) ** 2
  }, 0)
  let error = Math.sqrt(variance) / total
  if (windows.length > 1) {
    // Windows of one count that disagree show the drift between windows directly.
    const k = windows.length
    const between = windows.reduce((sum, p) => sum + (p.jobsPerSecond - rate) ** 2, 0) / (k - 1)
    error = Math.max(error, Math.sqrt(between / k))
  }
  return { workers, rate, error, windows: windows.length }
}

// Each count under every limit, in order, with the best of them and the answer.
function rankCounts(state: Pick<SearchState, 'probes' | 'limit' | 'tolerance'>): Ranking | undefined {
  const byCount = new Map<number, ProbeResult[]>()
  for (const p of withinLimits(state)) byCount.set(p.workers, [...(byCount.get(p.workers) ?? []), p])
  const estimates = [...byCount.entries()]
    .map(([n, windows]) => combine(n, windows))
    .sort((a, b) => a.workers - b.workers)
  if (estimates.length === 0) return undefined
  const top = estimates.reduce((a, b) => (b.rate > a.rate ? b : a))
  const answer = estimates.find((e) => reaches(e, top, state.tolerance, 0)) ?? top
  return { estimates, top, answer }
}

// Whether a's rate comes within tolerance of b's, allowing z standard errors of their difference.
function reaches(a: Estimate, b: Estimate, tolerance: number, z: number): boolean {
  return a.rate + z * Math.hypot(a.error, b.error) >= (1 - tolerance) * b.rate
}

// Whether a beats b by at least gain, beyond the noise of the two.
function clearlyAbove(a: Estimate, b: Estimate, gain: number): boolean {
  return a.rate >= b.rate * (1 + gain) + NOISE_Z * Math.hypot(a.error, b.error)
}

// Probes at or above a tripped count are over a limit, whatever they measured.
function withinLimits(state: Pick<SearchState, 'probes' | 'limit'>): ProbeResult[] {
  return state.probes.filter((p) => !p.guardTripped && p.workers < state.limit)
}

function topEstimate(state: Pick<SearchState, 'probes' | 'limit'>): Estimate | undefined {
  return rankCounts({ ...state, tolerance: 0 })?.top
}
