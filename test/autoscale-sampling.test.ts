import { describe, expect, it } from 'vitest'
import { decideAutoscale, defaultAutoscaleSettings, initialAutoscaleState } from '../src/autoscale/policy.js'
import { seededRandom as seeded } from '../src/autoscale/simulate.js'
import { SAMPLE_INTERVAL_MS, SAMPLE_JITTER, nextSampleDelay } from '../src/master/observer.js'

// Work on a clock: a job enqueued every periodMs, taking jobMs, one worker that picks it up at once.
function measuredJobSeconds(
  periodMs: number,
  jobMs: number,
  gaps: () => number,
  seconds = 600,
): number | null {
  let state = initialAutoscaleState(1)
  const settings = defaultAutoscaleSettings(1, 4)
  for (let at = 137; at < seconds * 1000; at += gaps()) {
    const phase = at % periodMs
    const processed = at < jobMs ? 0 : Math.floor((at - jobMs) / periodMs) + 1
    const sample = { at, depth: 0, processed, busy: phase < jobMs ? 1 : 0, workers: 1 }
    state = decideAutoscale(state, sample, settings, at).state
  }
  return state.jobSeconds
}

describe('sampling the queues at jittered gaps', () => {
  it('draws each gap within the jitter of the interval, less the time the sample took', () => {
    const low = SAMPLE_INTERVAL_MS * (1 - SAMPLE_JITTER)
    const high = SAMPLE_INTERVAL_MS * (1 + SAMPLE_JITTER)
    expect(nextSampleDelay(SAMPLE_INTERVAL_MS, 0, 0)).toBe(low)
    expect(nextSampleDelay(SAMPLE_INTERVAL_MS, 0, 0.999999)).toBeCloseTo(high, -1)
    expect(nextSampleDelay(SAMPLE_INTERVAL_MS, 0, 0.5)).toBe(SAMPLE_INTERVAL_MS)
    expect(nextSampleDelay(SAMPLE_INTERVAL_MS, 300, 0.5)).toBe(SAMPLE_INTERVAL_MS - 300)
    expect(nextSampleDelay(SAMPLE_INTERVAL_MS, 5_000, 0.5)).toBe(0)
    const random = seeded(7)
    for (let i = 0; i < 1000; i++) {
      const gap = nextSampleDelay(SAMPLE_INTERVAL_MS, 0, random())
      expect(gap).toBeGreaterThanOrEqual(low)
      expect(gap).toBeLessThanOrEqual(high)
    }
  })

  it('measures the job time of work that comes on a clock, where fixed gaps lock onto its phase', () => {
    for (const [periodMs, jobMs] of [
      [500, 250],
      [1000, 300],
      [250, 100],
      [2000, 700],
    ]) {
      const fixed = measuredJobSeconds(periodMs, jobMs, () => SAMPLE_INTERVAL_MS)
      const random = seeded(periodMs + jobMs)
      const jittered = measuredJobSeconds(periodMs, jobMs, () =>
        nextSampleDelay(SAMPLE_INTERVAL_MS, 0, random()),
      )
      const truth = jobMs / 1000
      // Sampled at the same point of every job's run, the busy count is always 1 (or always 0).
      expect(Math.abs((fixed ?? 0) - truth) / truth).toBeGreaterThan(0.4)
      expect(Math.abs(jittered! - truth) / truth).toBeLessThan(0.15)
    }
  })
})
