import { describe, expect, it } from 'vitest'
import {
  formatBytes,
  formatDuration,
  formatSize,
  parseDuration,
  parseSize,
  resolveSize,
} from '../src/autoscale/units.js'

describe('parseDuration', () => {
  it('reads each unit as seconds', () => {
    expect(parseDuration('30s')).toBe(30)
    expect(parseDuration('2m')).toBe(120)
    expect(parseDuration('1h')).toBe(3600)
    expect(parseDuration('1500ms')).toBe(1.5)
    expect(parseDuration('0s')).toBe(0)
  })

  it('reads a bare number as seconds', () => {
    expect(parseDuration('90')).toBe(90)
    expect(parseDuration('0')).toBe(0)
    expect(parseDuration('2.5')).toBe(2.5)
  })

  it('reads decimals and compound durations', () => {
    expect(parseDuration('0.5s')).toBe(0.5)
    expect(parseDuration('1.5m')).toBe(90)
    expect(parseDuration('1m30s')).toBe(90)
    expect(parseDuration('1h30m')).toBe(5400)
    expect(parseDuration('1h0m5s250ms')).toBe(3605.25)
    expect(parseDuration(' 30s ')).toBe(30)
  })

  it('refuses anything else with a message naming the token and the accepted forms', () => {
    for (const bad of [
      '',
      ' ',
      's',
      '30x',
      '-5s',
      '1d',
      '30 s',
      '1.s',
      'ten',
      '30s!',
      '1e3',
      '0x10',
      '30S',
    ]) {
      expect(() => parseDuration(bad), bad).toThrow(
        /^bad duration ".*": use seconds \(90\) or a number with a unit/,
      )
    }
  })

  it('keeps a hostile token to one short line', () => {
    const error = (() => {
      try {
        parseDuration('x'.repeat(100_000))
      } catch (e) {
        return e as Error
      }
    })()
    expect(error?.message).not.toContain('\n')
    expect(error!.message.length).toBeLessThan(200)
    expect(error!.message).toContain('100000 chars')
  })
})

describe('parseSize', () => {
  it('reads binary units, case-insensitively, with an optional B or iB', () => {
    expect(parseSize('500M')).toEqual({ bytes: 500 * 1024 ** 2 })
    expect(parseSize('2G')).toEqual({ bytes: 2 * 1024 ** 3 })
    expect(parseSize('512k')).toEqual({ bytes: 512 * 1024 })
    expect(parseSize('1T')).toEqual({ bytes: 1024 ** 4 })
    expect(parseSize('1.5GiB')).toEqual({ bytes: 1.5 * 1024 ** 3 })
    expect(parseSize('100MB')).toEqual({ bytes: 100 * 1024 ** 2 })
    expect(parseSize('64 m')).toEqual({ bytes: 64 * 1024 ** 2 })
  })

  it('reads a bare number, or one with B, as bytes', () => {
    expect(parseSize('1048576')).toEqual({ bytes: 1048576 })
    expect(parseSize('0')).toEqual({ bytes: 0 })
    expect(parseSize('100B')).toEqual({ bytes: 100 })
  })

  it('reads a percentage of memory', () => {
    expect(parseSize('10%')).toEqual({ percent: 10 })
    expect(parseSize('2.5%')).toEqual({ percent: 2.5 })
    expect(parseSize('100%')).toEqual({ percent: 100 })
  })

  it('refuses a percentage outside (0, 100]', () => {
    expect(() => parseSize('0%')).toThrow('bad size "0%": a percentage must be above 0 and at most 100')
    expect(() => parseSize('150%')).toThrow(/at most 100/)
  })

  it('refuses anything else, naming the token and the accepted forms', () => {
    for (const bad of ['', 'M', '500X', '-1M', '1.2.3G', 'ten', '%', '5%%', '1e6', '500 MBs', '1P']) {
      expect(() => parseSize(bad), bad).toThrow(
        /^bad size ".*": use bytes \(1048576\), a number with K, M, G or T/,
      )
    }
  })
})

describe('resolveSize', () => {
  it('takes bytes as they are and a percentage of the total', () => {
    expect(resolveSize({ bytes: 5000 }, 1_000_000)).toBe(5000)
    expect(resolveSize({ percent: 10 }, 1_000_000)).toBe(100_000)
    expect(resolveSize({ percent: 33 }, 10)).toBe(3)
  })
})

describe('formatDuration', () => {
  it('writes the shortest form', () => {
    expect(formatDuration(0)).toBe('0s')
    expect(formatDuration(0.25)).toBe('250ms')
    expect(formatDuration(30)).toBe('30s')
    expect(formatDuration(90)).toBe('1m30s')
    expect(formatDuration(120)).toBe('2m')
    expect(formatDuration(3600)).toBe('1h')
    expect(formatDuration(5400)).toBe('1h30m')
    expect(formatDuration(3661)).toBe('1h1m1s')
    expect(formatDuration(29.6)).toBe('30s')
  })

  it('writes what parseDuration reads back', () => {
    for (const seconds of [0, 0.5, 1, 59, 60, 61, 119, 3599, 3600, 86_400, 100_000])
      expect(parseDuration(formatDuration(seconds))).toBe(seconds)
  })
})

describe('formatBytes', () => {
  it('writes binary units with one decimal under ten', () => {
    expect(formatBytes(0)).toBe('0B')
    expect(formatBytes(512)).toBe('512B')
    expect(formatBytes(1536)).toBe('1.5K')
    expect(formatBytes(500 * 1024 ** 2)).toBe('500M')
    expect(formatBytes(2 * 1024 ** 3)).toBe('2G')
    expect(formatBytes(1.25 * 1024 ** 3)).toBe('1.3G')
    expect(formatBytes(3 * 1024 ** 4)).toBe('3T')
  })

  it('writes what parseSize reads back (to its rounding)', () => {
    for (const bytes of [0, 1, 1023, 1024, 10 * 1024, 500 * 1024 ** 2, 8 * 1024 ** 3]) {
      const back = parseSize(formatBytes(bytes))
      expect('bytes' in back && back.bytes).toBe(bytes)
    }
  })

  it('formats a size as written', () => {
    expect(formatSize({ percent: 10 })).toBe('10%')
    expect(formatSize({ bytes: 500 * 1024 ** 2 })).toBe('500M')
  })
})
