import { describe, expect, it } from 'vitest'
import { checkHostLimits, countCompleted, loadPerCore } from '../src/tune/readings.js'

const GIB = 2 ** 30
const host = (load1: number, memAvailable = 8 * GIB) => ({
  load1,
  cores: 2,
  memAvailable,
  memTotal: 16 * GIB,
})

describe('countCompleted', () => {
  const map = (entries: [string, number][]) => new Map(entries)

  it('sums each worker’s increase', () => {
    expect(
      countCompleted(
        map([
          ['a', 10],
          ['b', 5],
        ]),
        map([
          ['a', 14],
          ['b', 6],
        ]),
      ),
    ).toEqual({ completed: 5, left: [] })
  })

  it('counts a new worker from zero', () => {
    expect(
      countCompleted(
        map([['a', 10]]),
        map([
          ['a', 11],
          ['c', 3],
        ]),
      ),
    ).toEqual({ completed: 4, left: [] })
  })

  it('reports a worker whose counter vanished as left, and counts nothing for it', () => {
    expect(
      countCompleted(
        map([
          ['a', 10],
          ['b', 7],
        ]),
        map([['a', 12]]),
      ),
    ).toEqual({ completed: 2, left: ['b'] })
  })

  it('never counts a counter that went down (reset under the same id) as negative', () => {
    expect(countCompleted(map([['a', 10]]), map([['a', 2]]))).toEqual({ completed: 0, left: [] })
  })

  it('is zero with no workers', () => {
    expect(countCompleted(map([]), map([]))).toEqual({ completed: 0, left: [] })
  })
})

describe('checkHostLimits', () => {
  it('passes with no limits', () => {
    expect(checkHostLimits(host(100, 0), {})).toBeUndefined()
  })

  it('trips max-load on the load per core, not the raw load', () => {
    expect(loadPerCore(host(3))).toBe(1.5)
    expect(checkHostLimits(host(3), { maxLoad: 1.5 })).toBeUndefined()
    expect(checkHostLimits(host(3.2), { maxLoad: 1.5 })).toEqual({
      guard: 'max-load',
      why: 'load 1.60 per core (3.20 on 2 cores) > 1.5',
    })
  })

  it('trips min-free-mem on bytes or a share of MemTotal', () => {
    expect(checkHostLimits(host(0, GIB), { minFreeMem: { bytes: 2 * GIB } })?.guard).toBe('min-free-mem')
    expect(checkHostLimits(host(0, 2 * GIB), { minFreeMem: { bytes: 2 * GIB } })).toBeUndefined()
    expect(checkHostLimits(host(0, GIB), { minFreeMem: { percent: 10 } })).toEqual({
      guard: 'min-free-mem',
      why: '1024 MiB available < 1638 MiB floor',
    })
    expect(checkHostLimits(host(0, 2 * GIB), { minFreeMem: { percent: 10 } })).toBeUndefined()
  })

  it('names memory first when both are over', () => {
    expect(checkHostLimits(host(10, 0), { maxLoad: 1, minFreeMem: { percent: 5 } })?.guard).toBe(
      'min-free-mem',
    )
  })
})
