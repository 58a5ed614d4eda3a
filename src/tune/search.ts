import { type UslModel, fitUsl, predictThroughput } from './usl.js'

// The search for the worker count with the most jobs per second. Pure: the caller sets the count,
// measures a window, hands the result to recordProbe and asks nextProbe what to do next.

export type Guard = 'max-load' | 'min-free-mem'
export type StopReason = 'converged' | 'max-probes' | 'guard' | 'bounds'

export type SearchOptions = {
  min: number
  max: number
  // The answer is the smallest count within this fraction of the best measured throughput.
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
  }
}

export function recordProbe(state: SearchState, probe: ProbeResult): SearchState {
  const before = bestMeasured(state)
  const planned = state.probes.length ? planNext(state, upperBound(state)) : undefined
  const missed =
    planned?.kind === 'peak' &&
    planned.workers === probe.workers &&
    (!before || probe.jobsPerSecond < before.jobsPerSecond * (1 + state.minGain))
  const probes = [...state.probes, probe]
  const tripped = probe.guardTripped !== undefined && probe.workers < state.limit
  const limit = tripped ? probe.workers : state.limit
  const guard = tripped ? probe.guardTripped : state.guard
  const stillRising =
    !probe.guardTripped &&
    probe.workers < upperBound({ ...state, limit }) &&
    (!before || probe.jobsPerSecond >= before.jobsPerSecond * (1 + state.minGain))
  return {
    ...state,
    probes,
    limit,
    guard,
    climbing: state.climbing && stillRising,
    peakMisses: state.peakMisses + (missed ? 1 : 0),
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

// The smallest count within tolerance of the best throughput measured under every limit.
export function chooseBest(state: Pick<SearchState, 'min' | 'probes' | 'tolerance' | 'limit'>): number {
  const best = bestMeasured(state)
  if (!best) return state.min
  return qualifying(state, (1 - state.tolerance) * best.jobsPerSecond)[0].workers
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
  if (bestMeasured(state)?.workers !== state.max) return false
  const model = fitUsl(state.probes)
  return !model || model.peak > state.max
}

function upperBound(state: Pick<SearchState, 'max' | 'limit'>): number {
  return Math.min(state.max, state.limit - 1)
}

type Plan = { workers: number; kind: 'climb' | 'peak' | 'smaller' }

function planNext(state: SearchState, top: number): Plan | undefined {
  const probed = new Set(state.probes.map((p) => p.workers))
  if (state.climbing) {
    const next = Math.min(top, Math.max(...probed) * 2)
    if (!probed.has(next)) return { workers: next, kind: 'climb' }
  }
  const best = bestMeasured(state)
  if (!best) return undefined
  const model = fitUsl(state.probes)
  const peak = state.peakMisses === 0 ? pickTowardsPeak(state, top, probed, best, model) : undefined
  if (peak !== undefined) return { workers: peak, kind: 'peak' }
  const smaller = pickSmaller(state, probed, best, model)
  return smaller === undefined ? undefined : { workers: smaller, kind: 'smaller' }
}

// Between the best measured count and its probed neighbours, the count the model rates highest,
// if it expects enough gain to be worth a window. The gain is read off the model's own curve, as a
// ratio to its value at the best count: a biased fit (a hard plateau) still has the right shape.
function pickTowardsPeak(
  state: SearchState,
  top: number,
  probed: ReadonlySet<number>,
  best: ProbeResult,
  model: UslModel | undefined,
): number | undefined {
  if (!model) return undefined
  const below = [...probed].filter((n) => n < best.workers)
  const above = [...probed].filter((n) => n > best.workers)
  const from = Math.max(state.min, below.length ? Math.max(...below) + 1 : state.min)
  // Halfway to a tripped count at most: the model knows throughput, not load or memory.
  const underLimit = state.limit === Infinity ? top : Math.floor((best.workers + state.limit) / 2)
  const to = Math.min(top, underLimit, above.length ? Math.min(...above) - 1 : top)
  let pick: number | undefined
  let pickRate = predictThroughput(model, best.workers) * (1 + state.minGain)
  for (let n = from; n <= to; n++) {
    if (probed.has(n)) continue
    const rate = predictThroughput(model, n)
    if (rate >= pickRate) {
      pick = n
      pickRate = rate
    }
  }
  return pick
}

// Narrows the gap below the current answer: a smaller count may also be within tolerance.
function pickSmaller(
  state: SearchState,
  probed: ReadonlySet<number>,
  best: ProbeResult,
  model: UslModel | undefined,
): number | undefined {
  const threshold = (1 - state.tolerance) * best.jobsPerSecond
  const answer = qualifying(state, threshold)[0].workers
  const below = [...probed].filter((n) => n < answer)
  const floor = below.length ? Math.max(...below) : state.min - 1
  if (answer - floor <= 1) return undefined
  if (model) {
    for (let n = floor + 1; n < answer; n++) if (predictThroughput(model, n) >= threshold) return n
  }
  return Math.floor((floor + answer) / 2)
}

// Probes at or above a tripped count are over a limit, whatever they measured.
function withinLimits(state: Pick<SearchState, 'probes' | 'limit'>): ProbeResult[] {
  return state.probes.filter((p) => !p.guardTripped && p.workers < state.limit)
}

function bestMeasured(state: Pick<SearchState, 'probes' | 'limit'>): ProbeResult | undefined {
  let best: ProbeResult | undefined
  for (const p of withinLimits(state)) {
    if (!best || p.jobsPerSecond > best.jobsPerSecond) best = p
  }
  return best
}

function qualifying(state: Pick<SearchState, 'probes' | 'limit'>, threshold: number): ProbeResult[] {
  return withinLimits(state)
    .filter((p) => p.jobsPerSecond >= threshold)
    .sort((a, b) => a.workers - b.workers)
}
