import { describe, expect, it } from 'vitest'
import { seededRandom } from '../src/autoscale/simulate.js'
import { fitUsl, peakOf, predictThroughput, solveLinear } from '../src/tune/usl.js'

function sampleUsl(x1: number, alpha: number, beta: number, counts: number[], noise = 0, seed = 1) {
  const random = seededRandom(seed)
  return counts.map((workers) => ({
    workers,
    jobsPerSecond: predictThroughput({ x1, alpha, beta }, workers) * (1 + noise * (2 * random() - 1)),
  }))
}

describe('fitUsl', () => {
  it.each([
    [10, 0.05, 0.002],
    [10, 0.1, 0.01],
    [3.5, 0.02, 0.05],
    [250, 0.3, 0.0005],
    [1, 0.001, 0.0001],
  ])('recovers x1=%d alpha=%d beta=%d and the peak from exact points', (x1, alpha, beta) => {
    const fit = fitUsl(sampleUsl(x1, alpha, beta, [1, 2, 4, 8, 16, 32]))!
    expect(fit.x1).toBeCloseTo(x1, 6)
    expect(fit.alpha).toBeCloseTo(alpha, 6)
    expect(fit.beta).toBeCloseTo(beta, 6)
    expect(fit.peak).toBeCloseTo(Math.sqrt((1 - alpha) / beta), 4)
    expect(fit.r2).toBeCloseTo(1, 9)
  })

  it('recovers the curve from points that do not include one worker', () => {
    const fit = fitUsl(sampleUsl(8, 0.04, 0.003, [3, 5, 9, 14]))!
    expect(fit.x1).toBeCloseTo(8, 4)
    expect(fit.alpha).toBeCloseTo(0.04, 4)
    expect(fit.beta).toBeCloseTo(0.003, 5)
  })

  it('gives an infinite peak for linear scaling and for pure contention', () => {
    const linear = fitUsl(sampleUsl(10, 0, 0, [1, 2, 4, 8]))!
    expect(linear.alpha).toBeCloseTo(0, 9)
    expect(linear.beta).toBeCloseTo(0, 9)
    expect(linear.peak).toBe(Infinity)
    const contended = fitUsl(sampleUsl(10, 0.3, 0, [1, 2, 4, 8, 16]))!
    expect(contended.alpha).toBeCloseTo(0.3, 6)
    expect(contended.peak).toBe(Infinity)
  })

  it('stays close on noisy points, within a few percent of the true peak throughput', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const fit = fitUsl(sampleUsl(20, 0.05, 0.004, [1, 2, 4, 8, 16, 24, 32], 0.03, seed))!
      const truePeak = Math.sqrt(0.95 / 0.004)
      expect(fit.peak).toBeGreaterThan(truePeak * 0.75)
      expect(fit.peak).toBeLessThan(truePeak * 1.33)
      const atPeak = predictThroughput({ x1: 20, alpha: 0.05, beta: 0.004 }, truePeak)
      expect(Math.abs(predictThroughput(fit, truePeak) / atPeak - 1)).toBeLessThan(0.04)
      expect(fit.r2).toBeGreaterThan(0.95)
    }
  })

  it('keeps alpha and beta non-negative when the data would pull them below zero', () => {
    // Better than linear: an unconstrained fit would need negative contention.
    const superlinear = [1, 2, 3, 4].map((n) => ({ workers: n, jobsPerSecond: 10 * n ** 1.2 }))
    const fit = fitUsl(superlinear)!
    expect(fit.alpha).toBeGreaterThanOrEqual(0)
    expect(fit.beta).toBeGreaterThanOrEqual(0)
    expect(fit.peak).toBe(Infinity)
    // Pinned at the bounds, it is the closest linear-scaling curve, not a wild one.
    expect(fit.r2).toBeGreaterThan(0.95)
  })

  it('fits better on the original residuals than the linearised start would', () => {
    // A hard plateau is not a USL curve; the refined fit must still explain most of it.
    const plateau = [1, 2, 4, 8, 16].map((n) => ({ workers: n, jobsPerSecond: 10 * Math.min(n, 6) }))
    const fit = fitUsl(plateau)!
    expect(fit.r2).toBeGreaterThan(0.9)
    expect(fit.alpha).toBeGreaterThanOrEqual(0)
    expect(fit.beta).toBeGreaterThanOrEqual(0)
  })

  it('uses repeated probes of one count as extra points', () => {
    const points = [...sampleUsl(10, 0.1, 0.01, [1, 2, 4]), ...sampleUsl(10, 0.1, 0.01, [4, 8])]
    const fit = fitUsl(points)!
    expect(fit.alpha).toBeCloseTo(0.1, 6)
    expect(fit.beta).toBeCloseTo(0.01, 6)
  })

  it('returns undefined with fewer than three distinct counts of positive throughput', () => {
    expect(fitUsl([])).toBeUndefined()
    expect(fitUsl([{ workers: 1, jobsPerSecond: 5 }])).toBeUndefined()
    expect(
      fitUsl([
        { workers: 1, jobsPerSecond: 5 },
        { workers: 2, jobsPerSecond: 9 },
      ]),
    ).toBeUndefined()
    expect(
      fitUsl([
        { workers: 2, jobsPerSecond: 5 },
        { workers: 2, jobsPerSecond: 5.2 },
        { workers: 4, jobsPerSecond: 9 },
      ]),
    ).toBeUndefined()
    expect(
      fitUsl([
        { workers: 1, jobsPerSecond: 5 },
        { workers: 2, jobsPerSecond: 0 },
        { workers: 4, jobsPerSecond: 9 },
      ]),
    ).toBeUndefined()
  })

  it('ignores counts below one and throughputs that are not numbers', () => {
    const points = [
      { workers: 0, jobsPerSecond: 0 },
      { workers: 3, jobsPerSecond: NaN },
      ...sampleUsl(10, 0.05, 0.01, [1, 2, 4, 8]),
    ]
    const fit = fitUsl(points)!
    expect(fit.alpha).toBeCloseTo(0.05, 6)
  })

  it('fits a flat line as total contention: peak at one worker, r2 of 1', () => {
    const flat = [1, 2, 4].map((n) => ({ workers: n, jobsPerSecond: 7 }))
    const fit = fitUsl(flat)!
    expect(fit.alpha).toBeCloseTo(1, 6)
    expect(fit.peak).toBe(1)
    expect(fit.r2).toBe(1)
  })
})

describe('peakOf', () => {
  it('is sqrt((1 - alpha) / beta), 1 when contention is total, Infinity without coherency cost', () => {
    expect(peakOf(0.1, 0.01)).toBeCloseTo(Math.sqrt(90), 9)
    expect(peakOf(1, 0.01)).toBe(1)
    expect(peakOf(0.2, 0)).toBe(Infinity)
    expect(peakOf(0.2, 1e-12)).toBe(Infinity)
  })
})

describe('solveLinear', () => {
  it('solves a system that needs pivoting and refuses a singular one', () => {
    const x = solveLinear(
      [
        [0, 2, 1],
        [1, 1, 1],
        [2, 1, 3],
      ],
      [7, 6, 13],
    )!
    expect(x[0]).toBeCloseTo(1, 12)
    expect(x[1]).toBeCloseTo(2, 12)
    expect(x[2]).toBeCloseTo(3, 12)
    expect(
      solveLinear(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toBeUndefined()
  })
})
