import { describe, expect, it } from 'vitest'
import {
  allocateBudget,
  budgetFloor,
  type BudgetGroup,
  KEEP_BONUS,
  shareSpawns,
  spawnAllowance,
  validateBudget,
} from '../src/autoscale/budget.js'

function auto(name: string, fields: Partial<BudgetGroup> = {}): BudgetGroup {
  return {
    name,
    automatic: true,
    min: 0,
    max: 10,
    want: 0,
    current: 0,
    idle: 0,
    latency: 0,
    targetLatency: 10,
    ...fields,
  }
}

function manual(name: string, count: number): BudgetGroup {
  return { ...auto(name), automatic: false, want: count, current: count }
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

describe('validateBudget', () => {
  it('accepts a budget that holds the manual counts and automatic minimums', () => {
    const groups = [manual('mail', 2), auto('images', { min: 1 }), auto('pdf', { min: 1 })]
    expect(budgetFloor(groups)).toEqual({ manual: 2, minimums: 2 })
    expect(() => validateBudget(groups, 4)).not.toThrow()
  })

  it('refuses one that cannot, saying how much is needed and what to do', () => {
    const groups = [manual('mail', 3), auto('images', { min: 2 })]
    expect(() => validateBudget(groups, 4)).toThrow(
      '--max-total 4 is too small: manual groups take 3 and automatic minimums 2 (5); raise --max-total or lower a count',
    )
    expect(() => validateBudget([manual('mail', 5)], 4)).toThrow(/manual groups take 5/)
  })

  it('refuses a budget that is not a whole number', () => {
    for (const bad of [-1, 2.5, NaN, Infinity])
      expect(() => validateBudget([], bad), String(bad)).toThrow(/^bad --max-total/)
  })

  it('is checked by allocateBudget too', () => {
    expect(() => allocateBudget([manual('mail', 5)], 4)).toThrow(/too small/)
  })
})

describe('allocateBudget', () => {
  it('gives every group what it wants when that fits', () => {
    const { counts, reasons } = allocateBudget(
      [manual('mail', 2), auto('images', { want: 3 }), auto('pdf', { want: 1, min: 1 })],
      8,
    )
    expect(counts).toEqual({ mail: 2, images: 3, pdf: 1 })
    expect(reasons).toEqual({
      mail: 'manual, fixed at 2',
      images: 'wants 3, within the budget of 8',
      pdf: 'wants 1, within the budget of 8',
    })
  })

  it('clamps a want to the group bounds', () => {
    const { counts } = allocateBudget([auto('a', { want: 20, max: 4 }), auto('b', { want: 0, min: 2 })], 10)
    expect(counts).toEqual({ a: 4, b: 2 })
  })

  it('keeps manual counts and minimums however high the latency elsewhere', () => {
    const { counts, reasons } = allocateBudget(
      [
        manual('mail', 2),
        auto('a', { min: 1, want: 10, current: 1, latency: 500 }),
        auto('b', { min: 2, want: 2, current: 2, latency: 0 }),
      ],
      6,
    )
    expect(counts).toEqual({ mail: 2, a: 2, b: 2 })
    expect(reasons.a).toBe('wants 10, gets 2 of the budget of 6 (latency 50.0x target)')
    expect(reasons.b).toBe('wants 2, gets it (latency 0.0x target) under the budget of 6')
  })

  it('gives the budget to the worse latency relative to each target', () => {
    // Both at 2 workers; a is 3x over its 10 s target, b 2x over its 60 s target.
    const { counts } = allocateBudget(
      [
        auto('a', { want: 6, current: 2, latency: 30, targetLatency: 10 }),
        auto('b', { want: 6, current: 2, latency: 120, targetLatency: 60 }),
      ],
      8,
    )
    // Projected ratio with c workers: a 6/c, b 4/c: a takes 3 for every 2 of b.
    expect(counts).toEqual({ a: 5, b: 3 })
  })

  it('is a worst-first fill when one group is far behind', () => {
    const { counts } = allocateBudget(
      [auto('calm', { want: 5, current: 1, latency: 1 }), auto('hot', { want: 5, current: 1, latency: 400 })],
      6,
    )
    expect(counts).toEqual({ calm: 1, hot: 5 })
  })

  it('moves at least half of an idle group to a bursting one in one allocation', () => {
    // `quiet` still wants its 6 (its policy waits out its scale-down window) but all 6 are idle.
    const quiet = auto('quiet', { want: 6, current: 6, idle: 6, latency: 0 })
    const burst = auto('burst', { want: 8, current: 0, latency: 45 })
    const { counts, reasons } = allocateBudget([quiet, burst], 6)
    expect(sum(counts)).toBe(6)
    expect(counts.burst).toBeGreaterThanOrEqual(3)
    expect(counts).toEqual({ quiet: 0, burst: 6 })
    expect(reasons.quiet).toBe(
      'wants 6, kept at its minimum 0: the budget of 6 went to worse queues (latency 0.0x target)',
    )
  })

  it("takes a quiet group's idle workers before its busy ones", () => {
    // quiet has 2 busy and 4 idle workers, with a little latency; burst is far behind.
    const { counts } = allocateBudget(
      [
        auto('quiet', { want: 6, current: 6, idle: 4, latency: 2 }),
        auto('burst', { want: 4, current: 0, latency: 80 }),
      ],
      6,
    )
    expect(counts).toEqual({ quiet: 2, burst: 4 })
  })

  it('gives the workers back after the peak', () => {
    // The peak: quiet is idle with an empty queue, burst is far behind.
    const peak = [
      auto('quiet', { want: 6, current: 6, idle: 6, latency: 0 }),
      auto('burst', { want: 6, current: 0, latency: 60 }),
    ]
    expect(allocateBudget(peak, 6).counts).toEqual({ quiet: 0, burst: 6 })
    // The burst drains (its policy wants 2, four of its workers idle) while quiet's queue fills.
    const draining = [
      auto('quiet', { want: 6, current: 0, latency: 12 }),
      auto('burst', { want: 2, current: 6, idle: 4, latency: 1 }),
    ]
    expect(allocateBudget(draining, 6).counts).toEqual({ quiet: 4, burst: 2 })
    const after = [
      auto('quiet', { want: 6, current: 4, latency: 12 }),
      auto('burst', { want: 0, current: 2, idle: 2, latency: 0 }),
    ]
    expect(allocateBudget(after, 6).counts).toEqual({ quiet: 6, burst: 0 })
  })

  it('gives each group with a backlog its first worker before any second, the higher ratio first', () => {
    const { counts } = allocateBudget(
      [
        auto('a', { want: 3, latency: 20 }),
        auto('b', { want: 3, latency: 90 }),
        auto('c', { want: 3, current: 5, latency: 30 }),
        auto('d', { want: 3, current: 2, latency: 0 }),
      ],
      2,
    )
    expect(counts).toEqual({ a: 0, b: 1, c: 1, d: 0 })
    expect(
      allocateBudget([auto('a', { want: 3, latency: 20 }), auto('b', { want: 3, latency: 90 })], 4).counts,
    ).toEqual({
      a: 1,
      b: 3,
    })
  })

  it('treats an unknown latency as on target', () => {
    const { counts, reasons } = allocateBudget(
      [
        auto('new', { want: 4, current: 2, latency: null }),
        auto('late', { want: 4, current: 2, latency: 15 }),
      ],
      4,
    )
    // new: 2/c, late: 3/c.
    expect(counts).toEqual({ new: 2, late: 2 })
    expect(reasons.new).toMatch(/latency unknown/)
  })

  it(`does not move a worker for a small gain (KEEP_BONUS ${KEEP_BONUS})`, () => {
    const pair = (bLatency: number) =>
      allocateBudget(
        [
          auto('a', { want: 6, current: 4, latency: 10 }),
          auto('b', { want: 6, current: 2, latency: bLatency }),
        ],
        6,
      ).counts
    // Moving one worker would lower the worse ratio from 1.5 to 1.33: not worth a stop and a start.
    expect(pair(15)).toEqual({ a: 4, b: 2 })
    // From 1.8 to 1.33: it moves.
    expect(pair(18)).toEqual({ a: 3, b: 3 })
  })

  it('breaks exact ties by name', () => {
    const { counts } = allocateBudget(
      [auto('b', { want: 3, current: 1, latency: 20 }), auto('a', { want: 3, current: 1, latency: 20 })],
      3,
    )
    expect(counts).toEqual({ a: 2, b: 1 })
  })

  it('leaves budget unused when nobody wants it', () => {
    const { counts } = allocateBudget([auto('a', { want: 1 }), manual('m', 1)], 10)
    expect(sum(counts)).toBe(2)
  })

  it('never exceeds the budget over a random sequence of wants', () => {
    let seed = 7
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let round = 0; round < 500; round++) {
      const groups = ['a', 'b', 'c', 'd'].map((name) => {
        const min = Math.floor(random() * 2)
        const current = Math.floor(random() * 6)
        return auto(name, {
          min,
          max: min + Math.floor(random() * 10),
          want: Math.floor(random() * 14),
          current,
          idle: Math.floor(random() * (current + 1)),
          latency: random() < 0.1 ? null : random() * 100,
          targetLatency: 1 + random() * 30,
        })
      })
      const floor = budgetFloor(groups)
      const maxTotal = 1 + floor.minimums + Math.floor(random() * 12)
      const { counts } = allocateBudget([...groups, manual('m', 1)], maxTotal)
      expect(sum(counts)).toBeLessThanOrEqual(maxTotal)
      for (const group of groups) {
        expect(counts[group.name]).toBeGreaterThanOrEqual(group.min)
        expect(counts[group.name]).toBeLessThanOrEqual(Math.max(group.min, group.max))
      }
      expect(counts.m).toBe(1)
    }
  })
})

describe('spawnAllowance and shareSpawns', () => {
  it('allows only what the budget has left, never less than none', () => {
    expect(spawnAllowance(0, 4)).toBe(4)
    expect(spawnAllowance(3, 4)).toBe(1)
    expect(spawnAllowance(4, 4)).toBe(0)
    expect(spawnAllowance(6, 4)).toBe(0)
  })

  it('shares spawns round the groups in the order given', () => {
    expect(
      shareSpawns(5, [
        { name: 'hot', missing: 4 },
        { name: 'warm', missing: 1 },
        { name: 'none', missing: 0 },
      ]),
    ).toEqual({ hot: 4, warm: 1 })
    expect(
      shareSpawns(3, [
        { name: 'hot', missing: 4 },
        { name: 'warm', missing: 4 },
      ]),
    ).toEqual({ hot: 2, warm: 1 })
    expect(shareSpawns(0, [{ name: 'hot', missing: 4 }])).toEqual({})
  })

  // A master's pass, simulated: allocate, stop surplus workers (idle first; a stopping worker lives on until
  // it exits, later if busy), spawn only within the allowance. Live workers never exceed the budget.
  it('keeps running + starting + stopping within the budget while workers move between groups', () => {
    interface Worker {
      group: string
      state: 'starting' | 'running' | 'stopping'
      busy: boolean
      exitsAt?: number
      readyAt: number
    }
    const maxTotal = 6
    let workers: Worker[] = Array.from({ length: 6 }, () => ({
      group: 'quiet',
      state: 'running' as const,
      busy: false,
      readyAt: 0,
    }))
    const wants = (tick: number) => ({
      quiet: tick < 5 ? 6 : tick < 40 ? 2 : 6,
      burst: tick >= 5 && tick < 40 ? 8 : 0,
    })
    const latency = (tick: number) => ({ quiet: 3, burst: tick >= 5 && tick < 40 ? 90 : 0 })
    let burstPeak = 0
    for (let tick = 0; tick < 80; tick++) {
      workers = workers.filter((worker) => worker.exitsAt === undefined || worker.exitsAt > tick)
      for (const worker of workers) {
        if (worker.state === 'starting' && worker.readyAt <= tick) worker.state = 'running'
        if (worker.state === 'running')
          worker.busy = worker.group === 'burst' ? latency(tick).burst > 0 : tick % 3 === 0
      }
      const groups = (['quiet', 'burst'] as const).map((name) => {
        const live = workers.filter((worker) => worker.group === name && worker.state !== 'stopping')
        return auto(name, {
          want: wants(tick)[name],
          current: live.length,
          idle: live.filter((worker) => !worker.busy).length,
          latency: latency(tick)[name],
        })
      })
      const { counts } = allocateBudget(groups, maxTotal)
      for (const group of groups) {
        const live = workers
          .filter((worker) => worker.group === group.name && worker.state !== 'stopping')
          .sort((a, b) => Number(a.busy) - Number(b.busy))
        for (const worker of live.slice(0, Math.max(0, live.length - counts[group.name]!))) {
          worker.state = 'stopping'
          worker.exitsAt = tick + (worker.busy ? 4 : 1)
        }
      }
      const missing = groups.map((group) => ({
        name: group.name,
        missing:
          counts[group.name]! -
          workers.filter((worker) => worker.group === group.name && worker.state !== 'stopping').length,
      }))
      const spawns = shareSpawns(spawnAllowance(workers.length, maxTotal), missing)
      for (const [group, count] of Object.entries(spawns))
        for (let i = 0; i < count; i++)
          workers.push({ group, state: 'starting', busy: false, readyAt: tick + 1 })
      expect(workers.length, `tick ${tick}`).toBeLessThanOrEqual(maxTotal)
      if (tick === 7)
        expect(workers.filter((worker) => worker.group === 'burst').length).toBeGreaterThanOrEqual(3)
      burstPeak = Math.max(burstPeak, workers.filter((worker) => worker.group === 'burst').length)
    }
    // quiet keeps one worker through the burst: its queue is not empty.
    expect(burstPeak).toBe(maxTotal - 1)
    // After the peak the quiet group has its six back.
    expect(workers.map((worker) => `${worker.group}:${worker.state}`)).toEqual(Array(6).fill('quiet:running'))
  })
})
