import { describe, expect, it } from 'vitest'
import {
  activeOverrides,
  formatEntry,
  formatWindow,
  localTimeZone,
  parseEntry,
  parseWindow,
  type ScheduleWindow,
  validateTimeZone,
} from '../src/autoscale/schedule.js'

const at = (iso: string) => Date.parse(iso)
const windows = (...texts: string[]) => texts.map(parseWindow)

describe('parseWindow', () => {
  it('reads days, times and entries', () => {
    expect(parseWindow('mon-fri 09:00-18:00 ui=6 reports=0..2')).toEqual({
      days: [1, 2, 3, 4, 5],
      start: 540,
      end: 1080,
      entries: { ui: '6', reports: '0..2' },
    })
  })

  it('reads a window without days as every day', () => {
    expect(parseWindow('09:00-18:00 ui=6')).toMatchObject({ days: null, start: 540, end: 1080 })
    expect(parseWindow('mon-sun 09:00-18:00 ui=6').days).toBeNull()
  })

  it('reads day lists, ranges wrapping past Sunday, full names, any case', () => {
    expect(parseWindow('sat,sun 00:00-24:00 w=1')).toMatchObject({ days: [0, 6], start: 0, end: 1440 })
    expect(parseWindow('fri-mon 10:00-11:00 w=1').days).toEqual([0, 1, 5, 6])
    expect(parseWindow('mon,wed-fri 10:00-11:00 w=1').days).toEqual([1, 3, 4, 5])
    expect(parseWindow('Monday,SAT 10:00-11:00 w=1').days).toEqual([1, 6])
  })

  it('reads a window wrapping midnight, and one ending at midnight', () => {
    expect(parseWindow('22:00-06:00 night=4')).toMatchObject({ start: 1320, end: 360 })
    expect(parseWindow('22:00-00:00 late=1')).toMatchObject({ start: 1320, end: 1440 })
    expect(parseWindow('22:00-24:00 late=1')).toMatchObject({ start: 1320, end: 1440 })
    expect(parseWindow('9:05-9:30 a=1')).toMatchObject({ start: 545, end: 570 })
  })

  it('reads entries joined by colons, queue lists and the * group; a later entry wins', () => {
    expect(parseWindow('09:00-10:00 a=1:b,c=2..4 *=0 a=3').entries).toEqual({
      a: '3',
      'b,c': '2..4',
      '*': '0',
    })
  })

  it('writes back what it reads', () => {
    for (const text of [
      'mon-fri 09:00-18:00 ui=6 reports=0..2',
      '09:00-18:00 ui=6',
      'sat,sun 00:00-24:00 w=1',
      'mon,fri-sun 22:00-06:00 night=1..4',
      'mon,tue,sat,sun 08:00-09:00 x=1',
      'mon,wed-fri 10:00-11:00 a,b=2',
    ])
      expect(formatWindow(parseWindow(text))).toBe(text)
    expect(formatWindow(parseWindow('fri-mon 9:00-17:00 x=01'))).toBe('mon,fri-sun 09:00-17:00 x=1')
  })

  it('refuses bad input with a one-line message naming the token', () => {
    const cases: [string, RegExp][] = [
      ['', /^empty schedule window: write it as \[DAYS\] HH:MM-HH:MM/],
      ['mon-fri', /has no time range: add one like 09:00-18:00/],
      ['09:00-18:00', /sets no group: add entries like ui=6/],
      ['mon-fry 09:00-18:00 a=1', /^bad day "fry" in "mon-fry": use mon, tue/],
      ['mon--fri 09:00-18:00 a=1', /^bad day list "mon--fri"/],
      ['mon, 09:00-18:00 a=1', /^bad day list "mon,"/],
      ['9-18 a=1', /^bad time range "9-18": write it as HH:MM-HH:MM/],
      ['09:00 a=1', /^bad time range "09:00"/],
      ['25:00-26:00 a=1', /^bad time in "25:00-26:00": hours run 00 to 23/],
      ['09:60-10:00 a=1', /minutes 00 to 59/],
      ['24:00-02:00 a=1', /24:00 only as an end/],
      ['10:00-24:30 a=1', /24:00 only as an end/],
      ['09:00-09:00 a=1', /^time range "09:00-09:00" is empty: use 00:00-24:00 for a whole day/],
      ['00:00-00:00 a=1', /is empty/],
      ['09:00-18:00 a', /^bad entry "a": write it as GROUP=COUNT or GROUP=MIN..MAX/],
      ['09:00-18:00 =2', /^bad entry "=2"/],
      ['09:00-18:00 a=x', /^bad worker count "x": use a whole number \(6\) or a range \(0..2\)/],
      ['09:00-18:00 a=-1', /^bad worker count "-1"/],
      ['09:00-18:00 a=3..1', /^bad range "3..1": the minimum comes first/],
      ['09:00-18:00 a=1001', /over the limit of 1000/],
      ['09:00-18:00 a,,b=1', /^bad queue group "a,,b"/],
    ]
    for (const [text, message] of cases) {
      expect(() => parseWindow(text), text).toThrow(message)
      try {
        parseWindow(text)
      } catch (error) {
        expect((error as Error).message).not.toContain('\n')
      }
    }
  })
})

describe('parseEntry', () => {
  it('reads counts and ranges and writes them back', () => {
    expect(parseEntry('6')).toEqual({ count: 6 })
    expect(parseEntry('0..2')).toEqual({ min: 0, max: 2 })
    expect(parseEntry('3..3')).toEqual({ min: 3, max: 3 })
    expect(formatEntry({ count: 6 })).toBe('6')
    expect(formatEntry({ min: 0, max: 2 })).toBe('0..2')
    expect(() => parseEntry('1..')).toThrow(/bad worker count/)
  })
})

describe('activeOverrides (UTC)', () => {
  // 2026-06-01 is a Monday.
  const office = windows('mon-fri 09:00-18:00 ui=6 reports=0..2')

  it('is on from the start of the window to just before its end', () => {
    expect(activeOverrides(office, at('2026-06-01T08:59:59.999Z'), 'UTC')).toEqual({
      overrides: {},
      active: [],
      nextChangeAt: at('2026-06-01T09:00:00Z'),
    })
    expect(activeOverrides(office, at('2026-06-01T09:00:00Z'), 'UTC')).toEqual({
      overrides: { ui: '6', reports: '0..2' },
      active: [0],
      nextChangeAt: at('2026-06-01T18:00:00Z'),
    })
    expect(activeOverrides(office, at('2026-06-01T17:59:59.999Z'), 'UTC').active).toEqual([0])
    expect(activeOverrides(office, at('2026-06-01T18:00:00Z'), 'UTC')).toEqual({
      overrides: {},
      active: [],
      nextChangeAt: at('2026-06-02T09:00:00Z'),
    })
  })

  it('skips days not listed: Friday evening points to Monday morning', () => {
    expect(activeOverrides(office, at('2026-06-05T18:00:00Z'), 'UTC').nextChangeAt).toBe(
      at('2026-06-08T09:00:00Z'),
    )
    expect(activeOverrides(office, at('2026-06-06T12:00:00Z'), 'UTC').active).toEqual([])
  })

  it('runs a wrapping window into the day after the one it names', () => {
    const night = windows('fri 22:00-06:00 batch=8')
    const state = (iso: string) => activeOverrides(night, at(iso), 'UTC')
    expect(state('2026-06-05T21:59:00Z').active).toEqual([])
    expect(state('2026-06-05T22:00:00Z')).toEqual({
      overrides: { batch: '8' },
      active: [0],
      nextChangeAt: at('2026-06-06T06:00:00Z'),
    })
    expect(state('2026-06-06T03:00:00Z').active).toEqual([0])
    expect(state('2026-06-06T06:00:00Z').active).toEqual([])
    // Friday before dawn belongs to Thursday's start, which is not listed.
    expect(state('2026-06-05T03:00:00Z').active).toEqual([])
    expect(state('2026-06-06T06:00:00Z').nextChangeAt).toBe(at('2026-06-12T22:00:00Z'))
  })

  it('runs an every-day wrapping window each night', () => {
    const night = windows('22:00-06:00 batch=8')
    expect(activeOverrides(night, at('2026-06-03T01:00:00Z'), 'UTC').nextChangeAt).toBe(
      at('2026-06-03T06:00:00Z'),
    )
    expect(activeOverrides(night, at('2026-06-03T12:00:00Z'), 'UTC').nextChangeAt).toBe(
      at('2026-06-03T22:00:00Z'),
    )
  })

  it('treats back-to-back days as one stretch: the weekend ends Monday 00:00', () => {
    const weekend = windows('sat,sun 00:00-24:00 w=1')
    expect(activeOverrides(weekend, at('2026-06-06T10:00:00Z'), 'UTC')).toEqual({
      overrides: { w: '1' },
      active: [0],
      nextChangeAt: at('2026-06-08T00:00:00Z'),
    })
    expect(activeOverrides(weekend, at('2026-06-07T23:59:59Z'), 'UTC').active).toEqual([0])
    expect(activeOverrides(weekend, at('2026-06-08T00:00:00Z'), 'UTC').nextChangeAt).toBe(
      at('2026-06-13T00:00:00Z'),
    )
  })

  it('lets the later-listed window win, per group', () => {
    const list = windows('09:00-18:00 ui=6 reports=0..2', '12:00-13:00 ui=2 lunch=1', '08:00-10:00 ui=9')
    expect(activeOverrides(list, at('2026-06-01T09:30:00Z'), 'UTC')).toEqual({
      overrides: { ui: '9', reports: '0..2' },
      active: [0, 2],
      nextChangeAt: at('2026-06-01T10:00:00Z'),
    })
    expect(activeOverrides(list, at('2026-06-01T12:30:00Z'), 'UTC')).toEqual({
      overrides: { ui: '2', reports: '0..2', lunch: '1' },
      active: [0, 1],
      nextChangeAt: at('2026-06-01T13:00:00Z'),
    })
    // Listed the other way round, the all-day window wins.
    const reversed = windows('12:00-13:00 ui=2 lunch=1', '09:00-18:00 ui=6 reports=0..2')
    expect(activeOverrides(reversed, at('2026-06-01T12:30:00Z'), 'UTC').overrides).toEqual({
      ui: '6',
      lunch: '1',
      reports: '0..2',
    })
  })

  it('has no next change without windows or with one that never ends', () => {
    expect(activeOverrides([], at('2026-06-01T00:00:00Z'), 'UTC')).toEqual({
      overrides: {},
      active: [],
      nextChangeAt: null,
    })
    const always = windows('00:00-24:00 a=1')
    expect(activeOverrides(always, at('2026-06-01T05:00:00Z'), 'UTC')).toEqual({
      overrides: { a: '1' },
      active: [0],
      nextChangeAt: null,
    })
  })

  it('reads the wall clock of the process zone by default', () => {
    const list = windows('mon-fri 09:00-18:00 ui=6', '22:00-06:00 n=1')
    for (const iso of ['2026-06-01T08:30:00Z', '2026-06-01T12:00:00Z', '2026-06-06T23:00:00Z'])
      expect(activeOverrides(list, at(iso))).toEqual(activeOverrides(list, at(iso), localTimeZone()))
  })
})

describe('activeOverrides (named zones, DST)', () => {
  const BERLIN = 'Europe/Berlin'

  it('keeps local times across the spring-forward change', () => {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    const office = windows('09:00-18:00 ui=6')
    expect(activeOverrides(office, at('2026-03-28T07:59:00Z'), BERLIN).nextChangeAt).toBe(
      at('2026-03-28T08:00:00Z'),
    )
    expect(activeOverrides(office, at('2026-03-28T17:30:00Z'), BERLIN).nextChangeAt).toBe(
      at('2026-03-29T07:00:00Z'),
    )
    expect(activeOverrides(office, at('2026-03-29T07:00:00Z'), BERLIN).nextChangeAt).toBe(
      at('2026-03-29T16:00:00Z'),
    )
  })

  it('starts a window in the skipped hour at the jump', () => {
    const skipped = windows('02:30-03:30 x=1')
    expect(activeOverrides(skipped, at('2026-03-29T00:30:00Z'), BERLIN)).toEqual({
      overrides: {},
      active: [],
      nextChangeAt: at('2026-03-29T01:00:00Z'),
    })
    expect(activeOverrides(skipped, at('2026-03-29T01:00:00Z'), BERLIN)).toEqual({
      overrides: { x: '1' },
      active: [0],
      nextChangeAt: at('2026-03-29T01:30:00Z'),
    })
  })

  it('ends a window in the repeated hour at its first occurrence, with no second run', () => {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:00-03:00 local happens twice.
    const early = windows('02:00-02:45 x=1')
    expect(activeOverrides(early, at('2026-10-25T00:00:00Z'), BERLIN)).toEqual({
      overrides: { x: '1' },
      active: [0],
      nextChangeAt: at('2026-10-25T00:45:00Z'),
    })
    // 02:10 CET, the second 02:10 of the night.
    expect(activeOverrides(early, at('2026-10-25T01:10:00Z'), BERLIN)).toEqual({
      overrides: {},
      active: [],
      nextChangeAt: at('2026-10-26T01:00:00Z'),
    })
  })

  it('makes a night window that spans the fall-back an hour longer in real time', () => {
    const night = windows('sat 22:00-06:00 batch=8')
    const start = activeOverrides(night, at('2026-10-24T19:00:00Z'), BERLIN).nextChangeAt!
    expect(start).toBe(at('2026-10-24T20:00:00Z'))
    const end = activeOverrides(night, start, BERLIN).nextChangeAt!
    expect(end).toBe(at('2026-10-25T05:00:00Z'))
    expect((end - start) / 3_600_000).toBe(9)
  })

  it('reads days in the zone, not in UTC', () => {
    // Monday 00:30 in Berlin is still Sunday in UTC.
    const monday = windows('mon 00:00-01:00 m=1')
    expect(activeOverrides(monday, at('2026-06-07T22:30:00Z'), BERLIN).active).toEqual([0])
    expect(activeOverrides(monday, at('2026-06-07T22:30:00Z'), 'UTC').active).toEqual([])
    // Half-hour offsets: 09:00 in Kolkata is 03:30 UTC.
    expect(
      activeOverrides(windows('09:00-10:00 a=1'), at('2026-06-01T03:00:00Z'), 'Asia/Kolkata').nextChangeAt,
    ).toBe(at('2026-06-01T03:30:00Z'))
  })

  it('points each nextChangeAt at the exact instant the active set changes, over a month with both DST changes', () => {
    const list: ScheduleWindow[] = windows(
      'mon-fri 09:00-18:00 ui=6',
      'sat,sun 00:00-24:00 w=1',
      '22:00-06:00 night=2',
      'sun 02:15-02:45 odd=1',
      'wed 17:00-19:00 ui=1',
    )
    for (const [from, to] of [
      ['2026-03-20T00:00:00Z', '2026-04-05T00:00:00Z'],
      ['2026-10-18T00:00:00Z', '2026-11-02T00:00:00Z'],
    ]) {
      let now = at(from)
      let changes = 0
      while (now < at(to)) {
        const state = activeOverrides(list, now, BERLIN)
        const next = state.nextChangeAt!
        expect(next).toBeGreaterThan(now)
        expect(activeOverrides(list, next - 1, BERLIN).active).toEqual(state.active)
        expect(activeOverrides(list, next, BERLIN).active).not.toEqual(state.active)
        // Nothing changes in between: probe a few instants.
        for (const fraction of [0.3, 0.7])
          expect(activeOverrides(list, now + Math.floor((next - now) * fraction), BERLIN).active).toEqual(
            state.active,
          )
        now = next
        changes++
      }
      expect(changes).toBeGreaterThan(40)
    }
  })
})

describe('validateTimeZone', () => {
  it('accepts IANA names and refuses others in one line', () => {
    expect(validateTimeZone('Europe/Berlin')).toBe('Europe/Berlin')
    expect(validateTimeZone('UTC')).toBe('UTC')
    expect(() => validateTimeZone('Mars/Olympus')).toThrow(
      'unknown time zone "Mars/Olympus": use an IANA name such as Europe/Berlin or UTC',
    )
    expect(() => activeOverrides([], 0, 'Nowhere/Land')).toThrow(RangeError)
  })
})
