import { describe, expect, it } from 'vitest'
import { RpdError } from '../src/errors.js'
import {
  type Formation,
  type FormationChange,
  applyChanges,
  formationDocument,
  formatFormation,
  parseChanges,
  parseFormation,
  parseSpec,
  sameSpec,
  validateFormation,
  validateFormationSpec,
} from '../src/state/formation.js'

function usageErrorOf(fn: () => unknown): RpdError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(RpdError)
    expect((error as RpdError).exitCode).toBe(2)
    return error as RpdError
  }
  throw new Error('expected a usage error')
}

describe('parseFormation', () => {
  it("reads the seed's own example", () => {
    expect(parseFormation(['foo=1:bar=1:baz,quux,xyzzy=5:*=2'])).toEqual({
      foo: 1,
      bar: 1,
      'baz,quux,xyzzy': 5,
      '*': 2,
    })
  })

  it('reads separate arguments and the colon form alike', () => {
    expect(parseFormation(['foo=2', 'bar=2', '*=1'])).toEqual(parseFormation(['foo=2:bar=2:*=1']))
    expect(parseFormation(['foo=2:bar=3', 'baz=1'])).toEqual({ foo: 2, bar: 3, baz: 1 })
  })

  it('lets a later entry for the same group win', () => {
    expect(parseFormation(['foo=2:foo=5'])).toEqual({ foo: 5 })
    expect(parseFormation(['foo=2', 'bar=1', 'foo=0'])).toEqual({ foo: 0, bar: 1 })
  })

  it('keeps the order groups were named in', () => {
    expect(Object.keys(parseFormation(['b=1:a=1:c=1']))).toEqual(['b', 'a', 'c'])
  })

  it('accepts shell metacharacters in queue names (they never reach a shell)', () => {
    for (const name of [
      '$(touch${IFS}x)',
      'x;rm',
      'a(b)',
      "it's",
      '"q"',
      '`id`',
      'a|b',
      'a&b',
      'ünïcode',
      'a.b-c_d',
    ])
      expect(parseFormation([`${name}=1`])).toEqual({ [name]: 1 })
  })

  it('accepts the limits of a count', () => {
    expect(parseFormation(['foo=0', 'bar=1000', 'baz=007'])).toEqual({ foo: 0, bar: 1000, baz: 7 })
  })

  const bad: [string, RegExp][] = [
    ['foo', /missing '='/],
    ['=2', /empty queue group/],
    ['foo=', /bad worker count ""/],
    ['foo=-1', /bad worker count "-1"/],
    ['foo=+1', /bad worker count "\+1"/],
    ['foo=2.5', /bad worker count "2.5"/],
    ['foo=1e3', /bad worker count "1e3"/],
    ['foo=abc', /bad worker count "abc"/],
    ['foo==2', /bad worker count "=2"/],
    ['foo= 2', /bad worker count " 2"/],
    ['foo=0x10', /bad worker count "0x10"/],
    ['foo=1001', /over the limit of 1000/],
    ['foo=99999999999999999999', /over the limit of 1000/],
    ['foo,,bar=1', /empty queue name/],
    [',foo=1', /empty queue name/],
    ['foo,=1', /empty queue name/],
    ['a b=1', /contains " "/],
    ['a\tb=1', /contains "\\t"/],
    ['a\nb=1', /contains "\\n"/],
    ['a\u0007b=1', /contains "\\u0007"/],
    ['a\u200bb=1', /contains/],
    ['a\ufffdb=1', /contains/],
    ['foo=1::bar=1', /missing '='/],
    ['', /missing '='/],
  ]
  it.each(bad)('rejects %j with exit 2 naming the token', (token, message) => {
    const error = usageErrorOf(() => parseFormation([token]))
    expect(error.message).toMatch(message)
    expect(error.message).not.toContain('\n')
  })

  it('keeps the message of a huge token to one short line', () => {
    const error = usageErrorOf(() => parseFormation([`${'q'.repeat(100_000)} x=1`]))
    expect(error.message.length).toBeLessThan(300)
    expect(error.message).toContain('100002 chars')
  })

  it('rejects an empty spec list', () => {
    expect(usageErrorOf(() => parseFormation([])).message).toMatch(/no workers given/)
  })
})

// applyChanges on a manual formation: the counts it leaves.
const applyCounts = (formation: Formation, changes: FormationChange[]) =>
  applyChanges({ formation, bounds: {} }, changes).formation

describe('parseChanges and applyChanges', () => {
  it('sets, adjusts and removes groups', () => {
    const start = { foo: 2, bar: 2, '*': 1 }
    expect(applyCounts(start, parseChanges(['foo=4']))).toEqual({ foo: 4, bar: 2, '*': 1 })
    expect(applyCounts(start, parseChanges(['foo=+2', 'bar=-1']))).toEqual({ foo: 4, bar: 1, '*': 1 })
    expect(applyCounts(start, parseChanges(['bar=0']))).toEqual({ foo: 2, '*': 1 })
    expect(applyCounts(start, parseChanges(['new=3']))).toEqual({ foo: 2, bar: 2, '*': 1, new: 3 })
  })

  it('never goes below zero, and a group at zero is removed', () => {
    expect(applyCounts({ foo: 1 }, parseChanges(['foo=-5']))).toEqual({})
    expect(applyCounts({}, parseChanges(['foo=-1']))).toEqual({})
  })

  it('applies changes in order', () => {
    expect(applyCounts({ foo: 1 }, parseChanges(['foo=+1:foo=+1:foo=-1']))).toEqual({ foo: 2 })
  })

  it('refuses a change that would pass the limit', () => {
    expect(usageErrorOf(() => applyCounts({ foo: 999 }, parseChanges(['foo=+2']))).message).toMatch(
      /1001 workers/,
    )
  })

  it('rejects bad relative counts', () => {
    for (const token of ['foo=+', 'foo=--1', 'foo=+1.5', 'foo=-1e2', 'foo=+-1'])
      expect(usageErrorOf(() => parseChanges([token])).message).toMatch(/bad worker count/)
  })
})

describe('validateFormation (pool.yml, resque-pool.yml)', () => {
  it('accepts a mapping and drops zero counts', () => {
    expect(validateFormation({ foo: 2, bar: 0 }, 'pool.yml')).toEqual({ foo: 2 })
    expect(validateFormation(null, 'pool.yml')).toEqual({})
  })

  it.each([
    [{ foo: -1 }, /bad worker count "-1"/],
    [{ foo: 2.5 }, /bad worker count "2.5"/],
    [{ foo: '2' }, /bad worker count "2"/],
    [{ foo: 1001 }, /bad worker count/],
    [{ 'a b': 1 }, /contains " "/],
    [[1, 2], /must be a mapping/],
    ['foo=1', /must be a mapping/],
  ])('rejects %j naming the file', (value, message) => {
    const error = usageErrorOf(() => validateFormation(value, '/x/pool.yml'))
    expect(error.message).toMatch(/^\/x\/pool\.yml: /)
    expect(error.message).toMatch(message)
  })
})

describe('formatFormation', () => {
  it('writes the WORKERS form, which parses back to the same formation', () => {
    const formation = { foo: 2, 'baz,quux': 5, '*': 1 }
    expect(formatFormation(formation)).toBe('foo=2:baz,quux=5:*=1')
    expect(parseFormation([formatFormation(formation)])).toEqual(formation)
  })
})

describe('automatic groups: ranges', () => {
  it('parses a range as bounds, keeping the group at its minimum even at 0', () => {
    expect(parseSpec(['images=0..8', 'mail=2', '*=1'])).toEqual({
      formation: { images: 0, mail: 2, '*': 1 },
      bounds: { images: { min: 0, max: 8 } },
    })
    expect(parseSpec('images=2..12:mail=2').bounds).toEqual({ images: { min: 2, max: 12 } })
    expect(parseFormation('images=2..12')).toEqual({ images: 2 })
    // A later plain count makes the group manual again.
    expect(parseSpec('images=1..3:images=4')).toEqual({ formation: { images: 4 }, bounds: {} })
  })

  it('refuses ranges that make no sense, by name', () => {
    expect(usageErrorOf(() => parseSpec('images=5..2')).message).toMatch(/MIN <= MAX/)
    expect(usageErrorOf(() => parseSpec('images=0..0')).message).toMatch(/at least 1/)
    expect(usageErrorOf(() => parseSpec('images=0..1001')).message).toMatch(/over the limit/)
    for (const token of ['images=1...3', 'images=..3', 'images=1..', 'images=a..b', 'images=-1..2'])
      expect(usageErrorOf(() => parseSpec(token)).code).toBe('BAD_SPEC')
  })

  it('scale: new bounds stay automatic, a count makes it manual, a delta on a range is refused', () => {
    const start = parseSpec('images=0..8:mail=2')
    expect(applyChanges(start, parseChanges(['images=2..12']))).toEqual({
      formation: { images: 2, mail: 2 },
      bounds: { images: { min: 2, max: 12 } },
    })
    expect(applyChanges(start, parseChanges(['images=4']))).toEqual({
      formation: { images: 4, mail: 2 },
      bounds: {},
    })
    expect(applyChanges(start, parseChanges(['images=0']))).toEqual({ formation: { mail: 2 }, bounds: {} })
    expect(usageErrorOf(() => applyChanges(start, parseChanges(['images=+1']))).message).toMatch(
      /images is automatic \(0\.\.8\)/,
    )
    expect(applyChanges(start, parseChanges(['mail=0..3'])).bounds).toEqual({
      images: { min: 0, max: 8 },
      mail: { min: 0, max: 3 },
    })
  })

  it('writes and reads ranges as pool.yml does', () => {
    const spec = parseSpec('images=0..8:mail=2')
    expect(formatFormation(spec.formation, spec.bounds)).toBe('images=0..8:mail=2')
    expect(formationDocument(spec)).toEqual({ images: '0..8', mail: 2 })
    expect(validateFormationSpec({ images: '0..8', mail: 2 }, 'pool.yml')).toEqual(spec)
    expect(sameSpec(spec, parseSpec('images=0..8:mail=2'))).toBe(true)
    expect(sameSpec(spec, parseSpec('images=0..9:mail=2'))).toBe(false)
    expect(usageErrorOf(() => validateFormationSpec({ images: '9..1' }, 'pool.yml')).message).toMatch(
      /MIN <= MAX/,
    )
    expect(
      usageErrorOf(() => validateFormationSpec(JSON.parse('{"__proto__": 1}'), 'pool.yml')).message,
    ).toMatch(/__proto__/)
  })
})
