import { describe, expect, it } from 'vitest'
import {
  type AutoscaleSettings,
  type Decision,
  decideAutoscale,
  defaultAutoscaleSettings,
  formatDecision,
  initialAutoscaleState,
} from '../src/autoscale/policy.js'

interface Step {
  arrive?: number
  // Jobs taken off the queue by workers that were idle: they show up in busy, not in done.
  start?: number
  done?: number
  busy?: number
  workers?: number
  headId?: string
  missing?: boolean
  dtMs?: number
  processedDrop?: number
}

// A group fed one sample a second: the test says what arrived and completed, the driver keeps the counters.
function driveGroup(settings: AutoscaleSettings, count: number | null = 0) {
  let state = initialAutoscaleState(count)
  let clock = 0
  let processed = 0
  let depth = 0
  const decisions: Decision[] = []
  const group = {
    get state() {
      return state
    },
    get clock() {
      return clock
    },
    decisions,
    step(s: Step = {}): Decision {
      clock += s.dtMs ?? 1000
      processed += (s.done ?? 0) - (s.processedDrop ?? 0)
      depth = Math.max(0, depth + (s.arrive ?? 0) - (s.done ?? 0) - (s.start ?? 0))
      const sample = s.missing
        ? undefined
        : {
            at: clock,
            depth,
            processed,
            busy: s.busy ?? 0,
            workers: s.workers ?? state.count ?? 0,
            headId: s.headId,
          }
      const result = decideAutoscale(state, sample, settings, clock)
      state = result.state
      decisions.push(result.decision)
      return result.decision
    },
    repeat(times: number, s: Step = {}): Decision {
      let last = group.step(s)
      for (let i = 1; i < times; i++) last = group.step(s)
      return last
    },
    // 10 jobs/s arriving and completing with 4 workers busy: λ = 10/s, S = 0.4 s.
    warm(seconds = 60) {
      return group.repeat(seconds, { arrive: 10, done: 10, busy: 4 })
    },
  }
  return group
}

const settings = (min: number, max: number, extra: Partial<AutoscaleSettings> = {}) => ({
  ...defaultAutoscaleSettings(min, max),
  ...extra,
})
const changes = (decisions: Decision[]) => decisions.filter((d) => d.change)

describe('decideAutoscale: scaling up', () => {
  it('starts a worker on the very first sample that shows a queued job', () => {
    const g = driveGroup(settings(0, 8))
    const d = g.step({ arrive: 1 })
    expect(d.desired).toBe(1)
    expect(d.previous).toBe(0)
    expect(d.change).toBe(true)
    expect(d.announce).toBe(true)
  })

  it('from zero, sizes a backlog by depth alone while the job time is unknown', () => {
    const g = driveGroup(settings(0, 20))
    g.step()
    const d = g.step({ arrive: 45 })
    expect(d.desired).toBe(5)
    expect(d.inputs.jobSeconds).toBeNull()
    expect(d.reason).toContain('1 worker per 10 queued until jobs complete')
  })

  it('refines the cold sizing once jobs complete', () => {
    const g = driveGroup(settings(0, 50))
    g.step({ arrive: 200 })
    expect(g.state.count).toBe(20)
    // 20 workers busy, 10 jobs done a second: S = 2 s, backlog drains at 10/s while 10/s more arrive.
    g.step({ arrive: 10, done: 10, busy: 20, start: 20 })
    const d = g.repeat(30, { arrive: 10, done: 10, busy: 20 })
    expect(d.inputs.jobSeconds).toBeGreaterThan(1.9)
    expect(d.inputs.jobSeconds).toBeLessThan(2)
    expect(d.inputs.rate).toBeCloseTo(10, 5)
    // About 2 s × (10/s + 180 queued / 30 s) = 32 workers.
    expect(d.desired).toBe(Math.ceil(d.inputs.jobSeconds! * (10 + 180 / 30)))
    expect(d.desired).toBeGreaterThan(30)
  })

  it('sizes a step in load in one decision, with the job time it already knows', () => {
    const g = driveGroup(settings(0, 100), 4)
    g.warm()
    expect(changes(g.decisions)).toEqual([])
    const d = g.step({ arrive: 100, done: 10, busy: 4 })
    // 100 arrivals in the interval (plus 2 sigma of Poisson noise) at 0.4 s each: well over 40 workers.
    expect(d.desired).toBeGreaterThanOrEqual(40)
    expect(d.desired).toBeLessThanOrEqual(52)
    expect(d.inputs.rate).toBeCloseTo(100, 5)
    expect(d.change).toBe(true)
  })

  it('counts jobs that left the queue for a worker as arrivals, not only completions', () => {
    const g = driveGroup(settings(0, 100), 4)
    g.warm()
    // 30 arrived: 10 completed, 4 more are running than a second ago, 16 are queued.
    const d = g.step({ arrive: 30, done: 10, busy: 8, start: 4 })
    expect(d.inputs.depth).toBe(16)
    expect(d.inputs.rate).toBeCloseTo(30, 5)
  })

  it('undoes a one-second spike once the next second is back in line', () => {
    const g = driveGroup(settings(0, 100), 4)
    g.warm()
    const spike = g.step({ arrive: 60, done: 10, busy: 4 })
    expect(spike.inputs.rate).toBeCloseTo(60, 5)
    expect(spike.change).toBe(true)
    const after = g.step({ arrive: 10, done: 60, busy: 4 })
    expect(after.inputs.rate).toBeLessThan(10.1)
    // The spike's count is held for the down window, then given back in one step: to 5, not 4, as the
    // way down keeps utilization at 80 % (4 s of work a second over 5 workers).
    g.repeat(125, { arrive: 10, done: 10, busy: 4 })
    expect(changes(g.decisions)).toHaveLength(2)
    expect(g.state.count).toBe(5)
  })

  it('follows Little’s law: ceil(S × (λ + Q / W))', () => {
    const g = driveGroup(settings(0, 100), 4)
    g.warm()
    // A backlog of 300 seen with no interval to measure: λ stays 10/s, so 0.4 × (10 + 300 / 30) = 8.
    const state = { ...g.state, last: null }
    const sample = { at: g.clock + 1000, depth: 300, processed: 0, busy: 4, workers: 4 }
    const d = decideAutoscale(state, sample, settings(0, 100), g.clock + 1000)
    expect(d.decision.desired).toBe(8)
  })

  it('does not change the count under a steady load it can serve', () => {
    const g = driveGroup(settings(0, 20), 4)
    g.warm(600)
    expect(changes(g.decisions)).toEqual([])
    expect(g.decisions.at(-1)!.reason).toMatch(/^4 workers kept: 0 queued, 10\.0 jobs\/s, 0\.40 s per job$/)
  })

  it('never asks for more than max, and says so', () => {
    const g = driveGroup(settings(0, 8), 4)
    g.warm()
    const d = g.step({ arrive: 500, done: 10, busy: 4 })
    expect(d.desired).toBe(8)
    expect(d.reason).toMatch(/^held at the maximum 8: /)
  })

  it('raises a group below its minimum at once', () => {
    const g = driveGroup(settings(3, 8), 0)
    const d = g.step()
    expect(d.desired).toBe(3)
    expect(d.reason).toMatch(/^raised to the minimum 3/)
  })

  it('lowers a group to a new maximum at once, busy or not', () => {
    const g = driveGroup(settings(0, 20), 10)
    g.repeat(10, { arrive: 25, done: 25, busy: 10 })
    const state = g.state
    const d = decideAutoscale(
      state,
      { at: g.clock + 1000, depth: 0, processed: state.last!.processed + 25, busy: 10, workers: 10 },
      settings(0, 6),
      g.clock + 1000,
    )
    expect(d.decision.desired).toBe(6)
    expect(d.decision.change).toBe(true)
  })
})

describe('decideAutoscale: scaling down', () => {
  // 30 jobs/s at S = 0.4 s needs 12 workers; then the load falls to 5 jobs/s (2 workers busy).
  function afterPeak(downAfterSeconds = 120) {
    const g = driveGroup(settings(0, 40, { downAfterSeconds }), 12)
    g.repeat(200, { arrive: 30, done: 30, busy: 12 })
    const peak = g.clock
    g.decisions.length = 0
    return { g, peak }
  }

  it('waits for the whole window after the last high recommendation, then shrinks in one step', () => {
    const { g, peak } = afterPeak()
    const low = { arrive: 5, done: 5, busy: 2 }
    for (let i = 0; i < 119; i++) expect(g.step(low).desired).toBe(12)
    expect(g.clock - peak).toBe(119_000)
    // The rate estimate falls gradually, so the recommendations within the window fall with it.
    g.repeat(200, low)
    const down = changes(g.decisions)
    expect(down.length).toBeGreaterThanOrEqual(1)
    expect(down[0].desired).toBeLessThan(12)
    expect(g.state.count).toBe(3)
    expect(down.at(-1)!.reason).toMatch(
      /^at most 3 workers needed for 120 s: 0 queued, 5\.0 jobs\/s, 0\.40 s per job$/,
    )
  })

  it('holds the highest recommendation of the window, not the latest', () => {
    const { g } = afterPeak(60)
    const low = { arrive: 5, done: 5, busy: 2 }
    g.repeat(300, low)
    expect(g.state.count).toBe(3)
    // One second of 30 arrivals: up at once; the next second the backlog is gone.
    const up = g.step({ arrive: 30, done: 5, busy: 2 })
    expect(up.desired).toBeGreaterThan(3)
    g.step({ arrive: 5, done: 30, busy: 2 })
    g.decisions.length = 0
    g.repeat(58, low)
    expect(changes(g.decisions)).toEqual([])
    expect(g.state.count).toBe(up.desired)
    g.repeat(2, low)
    expect(g.state.count).toBe(3)
  })

  it('never goes below the busy workers', () => {
    const { g } = afterPeak()
    // Arrivals stop; 9 workers stay busy with long jobs, completing nothing.
    g.repeat(200, { busy: 9 })
    expect(g.state.count).toBe(9)
    expect(g.decisions.at(-1)!.reason).toMatch(/^at most [1-8] workers? needed for 120 s: .*; 9 busy kept$/)
    expect(g.decisions.every((d) => d.desired >= 9)).toBe(true)
  })

  it('keeps a steady load at the edge of a worker from flapping', () => {
    // λ·S = 2.0 exactly: the up rule wants 2 or 3 as the rate wobbles, the down rule keeps 3 once it has 3.
    const g = driveGroup(settings(0, 20), 3)
    for (let i = 0; i < 1800; i++) g.step({ arrive: i % 2 ? 12 : 8, done: i % 2 ? 12 : 8, busy: 2 })
    expect(changes(g.decisions)).toEqual([])
  })
})

describe('decideAutoscale: scaling to zero', () => {
  it('goes to zero only after a whole window of empty queues and idle workers', () => {
    const g = driveGroup(settings(0, 8), 2)
    g.repeat(60, { arrive: 1, done: 1, busy: 1 })
    const lastBusy = g.clock
    g.decisions.length = 0
    const idle = g.repeat(119)
    expect(idle.desired).toBeGreaterThan(0)
    g.repeat(1)
    const zero = changes(g.decisions)
    expect(zero).toHaveLength(1)
    expect(zero[0].desired).toBe(0)
    expect(g.clock - lastBusy).toBe(120_000)
    expect(zero[0].reason).toBe('queues empty and no worker busy for 120 s')
  })

  it('stays up while a worker is busy, even with nothing queued or completing', () => {
    const g = driveGroup(settings(0, 8), 1)
    g.repeat(300, { busy: 1 })
    expect(g.state.count).toBe(1)
  })

  it('a single busy sample in the window restarts the wait for zero', () => {
    const g = driveGroup(settings(0, 8), 1)
    g.repeat(100)
    g.step({ busy: 1 })
    g.repeat(119)
    expect(g.state.count).toBe(1)
    g.step()
    expect(g.state.count).toBe(0)
  })

  it('a minimum above zero keeps the group up', () => {
    const g = driveGroup(settings(1, 8), 1)
    g.repeat(600)
    expect(changes(g.decisions)).toEqual([])
    expect(g.decisions.at(-1)!.reason).toMatch(/^1 worker kept, the minimum: 0 queued/)
  })

  it('starts again from zero on the first queued job, with the job time it measured before', () => {
    const g = driveGroup(settings(0, 30), 4)
    g.warm()
    g.repeat(400)
    expect(g.state.count).toBe(0)
    const d = g.step({ arrive: 50 })
    expect(d.inputs.jobSeconds).toBeCloseTo(0.4, 1)
    // 50 jobs in one second at 0.4 s each: sized as a step in load, not by the cold rule's 5.
    expect(d.desired).toBeGreaterThanOrEqual(20)
  })
})

describe('decideAutoscale: Redis unreachable', () => {
  it('holds the count, says so once, and says when Redis answers again', () => {
    const g = driveGroup(settings(0, 20), 4)
    g.warm()
    const first = g.step({ missing: true })
    expect(first).toMatchObject({ desired: 4, previous: 4, change: false, announce: true, held: 'redis' })
    expect(first.reason).toBe('Redis unreachable: holding 4 workers until it answers')
    const later = g.repeat(10, { missing: true })
    expect(later).toMatchObject({ desired: 4, announce: false, held: 'redis' })
    const back = g.step({ arrive: 10, done: 10, busy: 4 })
    expect(back.announce).toBe(true)
    expect(back.held).toBeUndefined()
    expect(back.reason).toMatch(/^Redis answering again after 11 s; 4 workers kept/)
    expect(g.step({ arrive: 10, done: 10, busy: 4 }).announce).toBe(false)
  })

  it('never scales down because of missing samples, however they fall', () => {
    const g = driveGroup(settings(0, 20), 12)
    g.repeat(200, { arrive: 30, done: 30, busy: 12 })
    g.decisions.length = 0
    // Load falls while every third sample is missing: the down window never fills, so the count holds.
    for (let i = 0; i < 900; i++) g.step(i % 3 === 2 ? { missing: true } : { arrive: 5, done: 5, busy: 2 })
    expect(changes(g.decisions)).toEqual([])
    // Once samples flow again, the group shrinks after one full window.
    const resumed = g.clock
    g.repeat(300, { arrive: 5, done: 5, busy: 2 })
    const down = changes(g.decisions)
    expect(down.length).toBeGreaterThanOrEqual(1)
    expect(g.decisions.findIndex((d) => d.change)).toBeGreaterThanOrEqual(119)
    expect(g.clock - resumed).toBe(300_000)
    expect(g.state.count).toBe(3)
  })

  it('a long outage neither shrinks an idle group to zero nor starts one', () => {
    const g = driveGroup(settings(0, 8), 2)
    g.repeat(600, { missing: true })
    expect(g.state.count).toBe(2)
    g.repeat(119)
    expect(g.state.count).toBe(2)
  })
})

describe('decideAutoscale: counters', () => {
  it('ignores an interval in which the completion counter fell (a worker left)', () => {
    const g = driveGroup(settings(0, 20), 4)
    g.warm()
    const d = g.step({ arrive: 10, done: 10, busy: 4, processedDrop: 5000 })
    expect(d.inputs.rate).toBeCloseTo(10, 5)
    expect(d.inputs.jobSeconds).toBeCloseTo(0.4, 5)
    expect(d.change).toBe(false)
    // The next interval is measured from the lower counter.
    const next = g.step({ arrive: 10, done: 10, busy: 4 })
    expect(next.inputs.rate).toBeCloseTo(10, 5)
  })

  it('ignores an interval in which a worker left, even if the sum still rose', () => {
    const g = driveGroup(settings(0, 20), 4)
    g.warm()
    // A worker with 8 completions left; the others did 10: the sum rose by 2 only.
    const d = g.step({ arrive: 10, done: 10, busy: 4, processedDrop: 8, workers: 3 })
    expect(d.inputs.rate).toBeCloseTo(10, 5)
  })

  it('ignores a gap in samples and a clock that went back', () => {
    const g = driveGroup(settings(0, 20), 4)
    g.warm()
    const gap = g.step({ arrive: 300, done: 300, busy: 4, dtMs: 30_000 })
    expect(gap.inputs.rate).toBeCloseTo(10, 5)
    const back = g.step({ arrive: 10, done: 10, busy: 4, dtMs: -500 })
    expect(back.inputs.rate).toBeCloseTo(10, 5)
  })

  it('estimates queue latency from depth and job time, and from a head that does not move', () => {
    const g = driveGroup(settings(0, 4), 4)
    g.warm()
    // All 4 workers stuck; 40 queued behind the same head job for 50 s.
    g.step({ arrive: 40, done: 10, busy: 4, headId: 'job-1' })
    const d = g.repeat(50, { busy: 4, headId: 'job-1' })
    expect(d.inputs.latency).toBeCloseTo(50, 5)
    const moving = driveGroup(settings(0, 4), 4)
    moving.warm()
    const m = moving.step({ arrive: 40, done: 10, busy: 4, headId: 'job-2' })
    // 30 queued × 0.4 s over 4 workers.
    expect(m.inputs.latency).toBeCloseTo(3, 5)
  })
})

describe('formatDecision', () => {
  it('names the counts and the cause in one line', () => {
    const state = { ...initialAutoscaleState(2), rate: 11.8, jobSeconds: 0.41 }
    const { decision } = decideAutoscale(
      state,
      { at: 1000, depth: 480, processed: 0, busy: 2, workers: 2 },
      settings(0, 20),
      1000,
    )
    expect(formatDecision('images', decision)).toBe(
      'images 2 -> 12 (480 queued, 11.8 jobs/s, 0.41 s per job, latency 98 s > 30 s target)',
    )
  })

  it('shows an unchanged count once', () => {
    const g = driveGroup(settings(0, 20), 4)
    const d = g.warm()
    expect(formatDecision('mail', d)).toBe('mail 4 (4 workers kept: 0 queued, 10.0 jobs/s, 0.40 s per job)')
  })
})
