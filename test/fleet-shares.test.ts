import { describe, expect, it } from 'vitest'
import { planMember } from '../src/fleet/plan.js'
import {
  computeShares,
  planTransition,
  transitionBound,
  type ShareMember,
  type Shares,
} from '../src/fleet/shares.js'

const equal = (...ids: string[]): ShareMember[] => ids.map((id) => ({ id, weight: 1 }))

function groupTotal(shares: Shares, group: string): number {
  return Object.values(shares).reduce((sum, perGroup) => sum + (perGroup[group] ?? 0), 0)
}

function memberTotal(shares: Shares, id: string): number {
  return Object.values(shares[id] ?? {}).reduce((sum, count) => sum + count, 0)
}

// A small deterministic generator so the shuffles are the same on every run.
function makeRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}

describe('computeShares', () => {
  it('splits 7 workers across 3 equal members as 3/2/2', () => {
    expect(computeShares(equal('a', 'b', 'c'), { images: 7 })).toEqual({
      a: { images: 3 },
      b: { images: 2 },
      c: { images: 2 },
    })
  })

  it('gives each member its exact quota when the count divides evenly', () => {
    expect(computeShares(equal('a', 'b', 'c'), { mail: 9 })).toEqual({
      a: { mail: 3 },
      b: { mail: 3 },
      c: { mail: 3 },
    })
  })

  it('splits by weight', () => {
    const members = [
      { id: 'big', weight: 2 },
      { id: 'small', weight: 1 },
    ]
    expect(computeShares(members, { images: 9 })).toEqual({ big: { images: 6 }, small: { images: 3 } })
    expect(computeShares(members, { images: 10 })).toEqual({ big: { images: 7 }, small: { images: 3 } })
  })

  it('gives the remainder to the largest fractional part before taking turns', () => {
    const members = [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 3 },
    ]
    // quotas 1.25 and 3.75: b has the larger remainder.
    expect(computeShares(members, { g: 5 })).toEqual({ a: { g: 1 }, b: { g: 4 } })
  })

  it('accepts fractional weights', () => {
    const members = [
      { id: 'a', weight: 0.5 },
      { id: 'b', weight: 1.5 },
    ]
    expect(computeShares(members, { g: 4 })).toEqual({ a: { g: 1 }, b: { g: 3 } })
  })

  it('gives zero to every member for a group of zero workers', () => {
    expect(computeShares(equal('a', 'b'), { idle: 0 })).toEqual({ a: { idle: 0 }, b: { idle: 0 } })
  })

  it('returns an empty map when there are no members', () => {
    expect(computeShares([], { images: 5 })).toEqual({})
  })

  it('gives nothing to a member of weight zero', () => {
    const members = [
      { id: 'a', weight: 1 },
      { id: 'drain', weight: 0 },
      { id: 'c', weight: 1 },
    ]
    const shares = computeShares(members, { g: 5, h: 3 })
    expect(shares.drain).toEqual({ g: 0, h: 0 })
    expect(groupTotal(shares, 'g')).toBe(5)
    expect(groupTotal(shares, 'h')).toBe(3)
  })

  it('gives zero everywhere when every weight is zero', () => {
    const shares = computeShares(
      [
        { id: 'a', weight: 0 },
        { id: 'b', weight: 0 },
      ],
      { g: 4 },
    )
    expect(shares).toEqual({ a: { g: 0 }, b: { g: 0 } })
  })

  it('hands one worker each to the first members when there are more members than workers', () => {
    const shares = computeShares(equal('a', 'b', 'c', 'd', 'e'), { g: 2 })
    expect(groupTotal(shares, 'g')).toBe(2)
    expect(Object.values(shares).every((perGroup) => perGroup.g! <= 1)).toBe(true)
    expect(shares.a!.g).toBe(1)
    expect(shares.b!.g).toBe(1)
  })

  it('rotates the remainders so one member does not collect every extra worker', () => {
    // Three groups of 4 over 3 members: each group leaves one extra worker, and each goes elsewhere.
    const shares = computeShares(equal('a', 'b', 'c'), { x: 4, y: 4, z: 4 })
    expect(shares).toEqual({
      a: { x: 2, y: 1, z: 1 },
      b: { x: 1, y: 2, z: 1 },
      c: { x: 1, y: 1, z: 2 },
    })
  })

  it('keeps member totals within one worker of each other across many groups for equal weights', () => {
    const formation: Record<string, number> = {}
    for (let i = 0; i < 20; i++) formation[`g${String(i).padStart(2, '0')}`] = (i * 7) % 5
    const shares = computeShares(equal('m1', 'm2', 'm3', 'm4'), formation)
    const totals = ['m1', 'm2', 'm3', 'm4'].map((id) => memberTotal(shares, id))
    expect(Math.max(...totals) - Math.min(...totals)).toBeLessThanOrEqual(1)
  })

  it('answers the same whatever order the members and groups arrive in', () => {
    const members = [
      { id: 'web-3', weight: 2 },
      { id: 'web-1', weight: 1 },
      { id: 'web-10', weight: 1 },
      { id: 'web-2', weight: 3 },
    ]
    const formation = { images: 13, mail: 5, reports: 1, zero: 0 }
    const expected = computeShares(members, formation)
    const random = makeRandom(7)
    for (let round = 0; round < 25; round++) {
      const reordered = Object.fromEntries(shuffle(Object.entries(formation), random))
      expect(computeShares(shuffle(members, random), reordered)).toEqual(expected)
    }
  })

  it('always hands out exactly the target, and each share is within one of the exact quota', () => {
    const random = makeRandom(42)
    for (let round = 0; round < 200; round++) {
      const size = 1 + Math.floor(random() * 6)
      const members = Array.from({ length: size }, (_, i) => ({
        id: `m${i}`,
        weight: 1 + Math.floor(random() * 4),
      }))
      const formation = { a: Math.floor(random() * 30), b: Math.floor(random() * 30) }
      const shares = computeShares(members, formation)
      const totalWeight = members.reduce((sum, m) => sum + m.weight, 0)
      for (const [group, count] of Object.entries(formation)) {
        expect(groupTotal(shares, group)).toBe(count)
        for (const member of members) {
          const quota = (count * member.weight) / totalWeight
          expect(Math.abs(shares[member.id]![group]! - quota)).toBeLessThan(1)
        }
      }
    }
  })

  it('sorts ids by code unit, not locale', () => {
    const shares = computeShares(equal('b', 'B', 'a'), { g: 1 })
    // 'B' (0x42) sorts before 'a' and 'b'.
    expect(shares.B!.g).toBe(1)
  })

  it('refuses a duplicate member, a negative weight and a fractional worker count', () => {
    expect(() => computeShares(equal('a', 'a'), { g: 1 })).toThrow(/listed twice/)
    expect(() => computeShares([{ id: 'a', weight: -1 }], { g: 1 })).toThrow(/weight -1/)
    expect(() => computeShares([{ id: 'a', weight: Number.NaN }], { g: 1 })).toThrow(/weight NaN/)
    expect(() => computeShares(equal('a'), { g: 1.5 })).toThrow(/whole number/)
    expect(() => computeShares(equal('a'), { g: -2 })).toThrow(/whole number/)
  })
})

describe('planTransition', () => {
  it('shrinks a member above its share at once', () => {
    expect(
      planTransition({ share: { g: 2 }, running: { g: 4 }, othersRunning: { g: 9 }, formation: { g: 7 } }),
    ).toEqual({
      g: 2,
    })
  })

  it('keeps an unchanged share unchanged whatever the others report', () => {
    expect(
      planTransition({ share: { g: 3 }, running: { g: 3 }, othersRunning: { g: 10 }, formation: { g: 7 } }),
    ).toEqual({ g: 3 })
  })

  it('grows only into room the others have left', () => {
    expect(
      planTransition({ share: { g: 3 }, running: { g: 0 }, othersRunning: { g: 6 }, formation: { g: 7 } }),
    ).toEqual({
      g: 1,
    })
    expect(
      planTransition({ share: { g: 3 }, running: { g: 0 }, othersRunning: { g: 4 }, formation: { g: 7 } }),
    ).toEqual({
      g: 3,
    })
  })

  it('never shrinks a growing member below what it already runs', () => {
    expect(
      planTransition({ share: { g: 4 }, running: { g: 2 }, othersRunning: { g: 7 }, formation: { g: 7 } }),
    ).toEqual({
      g: 2,
    })
  })

  it('stops a group that left the formation', () => {
    expect(planTransition({ share: {}, running: { old: 3 }, othersRunning: {}, formation: {} })).toEqual({
      old: 0,
    })
  })
})

// Members act one at a time in a shuffled order, each seeing the others' counts as last reported
// (possibly a step old); the fleet total is sampled after every action.
function simulate(
  before: Shares,
  after: Shares,
  formation: Record<string, number>,
  random: () => number,
): { peaks: Record<string, number>; final: Shares } {
  const running: Shares = structuredClone(before)
  for (const id of Object.keys(after)) running[id] ??= {}
  let reported: Shares = structuredClone(running)
  const peaks: Record<string, number> = {}
  const sample = () => {
    for (const group of Object.keys(formation))
      peaks[group] = Math.max(peaks[group] ?? 0, groupTotal(running, group))
  }
  sample()
  for (let step = 0; step < 40; step++) {
    for (const id of shuffle(Object.keys(running), random)) {
      const othersRunning: Record<string, number> = {}
      for (const [other, perGroup] of Object.entries(reported)) {
        if (other === id || !(other in after)) continue
        for (const [group, count] of Object.entries(perGroup))
          othersRunning[group] = (othersRunning[group] ?? 0) + count
      }
      running[id] = after[id]
        ? planTransition({ share: after[id], running: running[id]!, othersRunning, formation })
        : {}
      sample()
      // Reports lag: about half the time the others still see the previous step's counts.
      if (random() < 0.5) reported = structuredClone(running)
    }
    reported = structuredClone(running)
  }
  return { peaks, final: running }
}

describe('membership changes', () => {
  const formation = { images: 7, mail: 5 }

  it('a join never takes the fleet above target plus one share, and settles on the new shares', () => {
    const random = makeRandom(3)
    for (let round = 0; round < 50; round++) {
      const before = computeShares(equal('a', 'b', 'c'), formation)
      const after = computeShares(equal('a', 'b', 'c', 'd'), formation)
      const { peaks, final } = simulate(before, after, formation, random)
      for (const [group, target] of Object.entries(formation)) {
        expect(peaks[group]).toBeLessThanOrEqual(transitionBound(group, target, before, after))
        expect(peaks[group]).toBeLessThanOrEqual(target)
      }
      expect(final).toEqual(after)
    }
  })

  it('a leave lets the survivors take over the departed share', () => {
    const random = makeRandom(11)
    const before = computeShares(equal('a', 'b', 'c'), formation)
    const after = computeShares(equal('a', 'c'), formation)
    delete before.b
    const { peaks, final } = simulate(before, after, formation, random)
    expect(final).toEqual(after)
    expect(groupTotal(final, 'images')).toBe(7)
    expect(peaks.images).toBeLessThanOrEqual(7)
  })

  it('a weight change stays within the bound', () => {
    const random = makeRandom(5)
    for (let round = 0; round < 50; round++) {
      const before = computeShares(equal('a', 'b', 'c'), formation)
      const after = computeShares(
        [
          { id: 'a', weight: 1 },
          { id: 'b', weight: 3 },
          { id: 'c', weight: 1 },
        ],
        formation,
      )
      const { peaks, final } = simulate(before, after, formation, random)
      for (const [group, target] of Object.entries(formation))
        expect(peaks[group]).toBeLessThanOrEqual(transitionBound(group, target, before, after))
      expect(final).toEqual(after)
    }
  })

  it('leaves the workers of a member whose share did not change alone', () => {
    // A newcomer of weight zero (draining, or joining to watch) changes nobody's share.
    const before = computeShares(equal('a', 'b'), { g: 4 })
    const after = computeShares([...equal('a', 'b'), { id: 'c', weight: 0 }], { g: 4 })
    expect(after.a).toEqual(before.a)
    const plan = planTransition({
      share: after.a!,
      running: before.a!,
      othersRunning: { g: 2 },
      formation: { g: 4 },
    })
    expect(plan).toEqual(before.a)
  })

  it('computes the bound from the largest share on either side', () => {
    const before = { a: { g: 4 }, b: { g: 3 } }
    const after = { a: { g: 3 }, b: { g: 2 }, c: { g: 2 } }
    expect(transitionBound('g', 7, before, after)).toBe(11)
    expect(transitionBound('missing', 0, before)).toBe(0)
  })
})

describe('planMember', () => {
  const members = [
    { id: 'c', weight: 1, running: { images: 2 } },
    { id: 'a', weight: 1, running: { images: 3 } },
    { id: 'b', weight: 1, running: { images: 2 } },
  ]

  it('runs its share when the fleet is settled', () => {
    const plan = planMember({ selfId: 'a', members, targets: { images: 7 }, running: { images: 3 } })
    expect(plan).toMatchObject({ inFleet: true, share: { images: 3 }, counts: { images: 3 } })
    expect(plan.shares).toEqual({ a: { images: 3 }, b: { images: 2 }, c: { images: 2 } })
  })

  it('keeps what it runs and decides nothing when it is not among the live members', () => {
    const plan = planMember({
      selfId: 'cut-off',
      members,
      targets: { images: 7 },
      running: { images: 2, mail: 1 },
    })
    expect(plan).toEqual({ inFleet: false, shares: {}, share: {}, counts: { images: 2, mail: 1 } })
  })

  it('a newcomer waits for the others to shrink before it grows', () => {
    const joined = [...members, { id: 'd', weight: 1, running: {} }]
    const first = planMember({ selfId: 'd', members: joined, targets: { images: 7 }, running: {} })
    expect(first.share).toEqual({ images: 1 })
    expect(first.counts).toEqual({ images: 0 })
    const shrunk = joined.map((m) => (m.id === 'a' ? { ...m, running: { images: 2 } } : m))
    expect(planMember({ selfId: 'd', members: shrunk, targets: { images: 7 }, running: {} }).counts).toEqual({
      images: 1,
    })
  })

  it('stops the workers of a group that left the targets', () => {
    const plan = planMember({ selfId: 'a', members, targets: {}, running: { images: 3 } })
    expect(plan.counts).toEqual({ images: 0 })
  })
})
