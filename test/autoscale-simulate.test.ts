import { describe, expect, it } from 'vitest'
import {
  CELERY,
  JUDOSCALE,
  KEDA,
  RPD,
  type SimResult,
  type Workload,
  WORKLOADS,
  assessTargets,
  compareAutoscalers,
  simulate,
} from '../src/autoscale/simulate.js'

const SEEDS = [1, 2, 3]
const comparisons = new Map<number, SimResult[]>(SEEDS.map((seed) => [seed, compareAutoscalers(seed)]))
const rowOf = (seed: number, autoscaler: string, workload: string) =>
  comparisons.get(seed)!.find((r) => r.autoscaler === autoscaler && r.workload === workload)!
const burst = WORKLOADS.find((w) => w.name === 'burst')!

describe('simulate', () => {
  it('gives the same results for the same seed, and others for another seed', () => {
    expect(compareAutoscalers(1)).toEqual(comparisons.get(1))
    expect(simulate(RPD, burst, 2)).toEqual(rowOf(2, 'rpd', 'burst'))
    expect(rowOf(1, 'rpd', 'steady')).not.toEqual(rowOf(2, 'rpd', 'steady'))
  })

  it('serves every arrival of the measured window under rpd, as the same count for every autoscaler', () => {
    for (const seed of SEEDS)
      for (const workload of WORKLOADS) {
        const rows = comparisons.get(seed)!.filter((r) => r.workload === workload.name)
        expect(new Set(rows.map((r) => r.jobs)).size).toBe(1)
        const ours = rows.find((r) => r.autoscaler === 'rpd')!
        // A handful may still be running when the simulation ends.
        expect(ours.jobs - ours.completed).toBeLessThan(10)
      }
  })

  it('starts the first worker within 2 s of the first job of a group at zero', () => {
    const trickle: Workload = {
      name: 'trickle',
      label: 'five jobs a second after 100 s of nothing',
      seconds: 400,
      measureFrom: 0,
      jobSeconds: 0.2,
      peakRate: 5,
      rate: (t) => (t >= 100 ? 5 : 0),
      burst: { from: 100, to: 400, rate: 5 },
    }
    for (const seed of SEEDS) {
      const result = simulate(RPD, trickle, seed)
      expect(result.firstWorkerSeconds!).toBeGreaterThan(0)
      expect(result.firstWorkerSeconds!).toBeLessThanOrEqual(2)
      expect(result.interrupted).toBe(0)
      expect(result.p95LatencySeconds).toBeLessThan(3)
    }
  })
})

describe('rpd against the issue’s targets', () => {
  for (const seed of SEEDS) {
    it(`meets every target with seed ${seed}`, () => {
      const checks = assessTargets(comparisons.get(seed)!)
      expect(checks.filter((c) => !c.met)).toEqual([])
      const b = rowOf(seed, 'rpd', 'burst')
      expect(b.firstWorkerSeconds!).toBeLessThanOrEqual(2)
      expect(b.firstDecisionFraction!).toBeGreaterThanOrEqual(0.9)
      expect(b.p95BurstLatencySeconds!).toBeLessThanOrEqual(45)
      expect(rowOf(seed, 'rpd', 'steady').scaleEventsPerHour).toBeLessThanOrEqual(2)
      for (const w of WORKLOADS) expect(rowOf(seed, 'rpd', w.name).interrupted).toBe(0)
    })
  }

  it('costs no more than any peer that is as fast or faster at p95', () => {
    for (const seed of SEEDS)
      for (const workload of WORKLOADS) {
        const ours = rowOf(seed, 'rpd', workload.name)
        for (const peer of [KEDA, JUDOSCALE, CELERY]) {
          const theirs = rowOf(seed, peer.name, workload.name)
          if (theirs.p95LatencySeconds <= ours.p95LatencySeconds)
            expect(ours.workerSeconds).toBeLessThanOrEqual(theirs.workerSeconds)
        }
      }
  })
})

describe('the peers behave as modelled', () => {
  it('KEDA reacts on its 15 s syncs and kills busy workers when it shrinks', () => {
    for (const seed of SEEDS) {
      const b = rowOf(seed, 'keda', 'burst')
      // The first sync inside the burst may still find the queue within what the pods it kept can take.
      expect(b.firstDecisionSeconds!).toBeGreaterThan(0)
      expect(b.firstDecisionSeconds! % 15).toBeCloseTo(7, 5)
      expect(b.firstDecisionSeconds!).toBeLessThanOrEqual(31)
    }
    const interrupted = SEEDS.flatMap((seed) => WORKLOADS.map((w) => rowOf(seed, 'keda', w.name).interrupted))
    expect(interrupted.some((n) => n > 0)).toBe(true)
  })

  it('Judoscale-style steps add one worker at a time', () => {
    for (const seed of SEEDS) {
      const b = rowOf(seed, 'judoscale', 'burst')
      const needed = Math.ceil(burst.burst!.rate * burst.jobSeconds)
      expect(b.firstDecisionFraction!).toBeLessThanOrEqual((b.peakWorkers + 1) / needed)
      expect(b.p95BurstLatencySeconds!).toBeGreaterThan(45)
    }
  })

  it('Celery follows the reserved count second by second, so it scales far more often', () => {
    for (const seed of SEEDS) {
      const steady = rowOf(seed, 'celery', 'steady')
      expect(steady.scaleEventsPerHour).toBeGreaterThan(
        10 * rowOf(seed, 'rpd', 'steady').scaleEventsPerHour + 10,
      )
      expect(steady.interrupted).toBe(0)
    }
  })
})
