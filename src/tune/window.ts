// How long to measure one worker count. The caller counts completed jobs each second, starting when
// the group reports its new count running, and asks judgeWindow after each second.

export type WindowPlan = {
  // Leading seconds dropped: new workers are still booting and old ones finishing jobs started before.
  transientSeconds: number
  minSeconds: number
  maxSeconds: number
  // Stop early once the mean rate's relative standard error is below this.
  targetError: number
}

export type WindowSummary = {
  jobsPerSecond: number
  // Standard deviation of the per-second rates, jobs per second.
  spread: number
  // Standard error of jobsPerSecond, jobs per second.
  standardError: number
  seconds: number
}

export type WindowVerdict =
  { done: false } | { done: true; reason: 'steady' | 'max-window'; summary: WindowSummary }

export const TRANSIENT_MIN_S = 2
// After a scale-down nothing boots: the workers that stay were already at work, and the ones told to
// stop finish the job in hand. One second covers that for jobs shorter than half a second.
export const TRANSIENT_DOWN_MIN_S = 1
export const TRANSIENT_MAX_S = 30
export const WINDOW_MIN_S = 5
export const WINDOW_MAX_S = 30
export const WINDOW_TARGET_ERROR = 0.03

// A fixed windowSeconds (--window) measures exactly that long; otherwise the window ends when steady.
// The transient covers at least two jobs, estimated from the previous probe's rate per worker, and
// is shorter after a scale-down (workers, the count about to be measured, below the previous one).
export function windowFor(options: {
  windowSeconds?: number
  previous?: { workers: number; jobsPerSecond: number }
  workers?: number
}): WindowPlan {
  const previous = options.previous
  const jobSeconds = previous && previous.jobsPerSecond > 0 ? previous.workers / previous.jobsPerSecond : 0
  const down = previous !== undefined && options.workers !== undefined && options.workers < previous.workers
  const least = down ? TRANSIENT_DOWN_MIN_S : TRANSIENT_MIN_S
  const transientSeconds = Math.min(TRANSIENT_MAX_S, Math.max(least, Math.ceil(2 * jobSeconds)))
  const fixed = options.windowSeconds
  if (fixed !== undefined) {
    if (!(fixed >= 1)) throw new RangeError(`--window must be at least 1s, not ${fixed}s`)
    const seconds = Math.round(fixed)
    return { transientSeconds, minSeconds: seconds, maxSeconds: seconds, targetError: 0 }
  }
  return {
    transientSeconds,
    minSeconds: WINDOW_MIN_S,
    maxSeconds: WINDOW_MAX_S,
    targetError: WINDOW_TARGET_ERROR,
  }
}

export function judgeWindow(plan: WindowPlan, perSecondCounts: readonly number[]): WindowVerdict {
  const measured = perSecondCounts.slice(plan.transientSeconds)
  if (measured.length < plan.minSeconds) return { done: false }
  const summary = summarizeWindow(measured)
  if (measured.length >= plan.maxSeconds) return { done: true, reason: 'max-window', summary }
  const steady =
    summary.jobsPerSecond > 0 && summary.standardError / summary.jobsPerSecond <= plan.targetError
  return steady ? { done: true, reason: 'steady', summary } : { done: false }
}

export function summarizeWindow(perSecondCounts: readonly number[]): WindowSummary {
  const n = perSecondCounts.length
  if (n === 0) return { jobsPerSecond: 0, spread: 0, standardError: 0, seconds: 0 }
  const mean = perSecondCounts.reduce((sum, c) => sum + c, 0) / n
  const variance = n > 1 ? perSecondCounts.reduce((sum, c) => sum + (c - mean) ** 2, 0) / (n - 1) : 0
  const spread = Math.sqrt(variance)
  return { jobsPerSecond: mean, spread, standardError: spread / Math.sqrt(n), seconds: n }
}
