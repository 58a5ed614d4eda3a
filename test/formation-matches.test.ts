import { describe, expect, it } from 'vitest'
import { formationMatches } from '../src/client/apply-pool.js'

describe('formationMatches', () => {
  const cases: [
    string,
    Record<string, number>,
    Record<string, number>,
    Record<string, { min: number; max: number }>,
    boolean,
  ][] = [
    ['same counts', { foo: 1 }, { foo: 1 }, {}, true],
    ['a group added by hand', { foo: 1 }, { foo: 1, bar: 1 }, {}, false],
    ['a group removed by hand', { foo: 1, bar: 1 }, { foo: 1 }, {}, false],
    ['a count changed', { foo: 1 }, { foo: 2 }, {}, false],
    ['a zero group is no group', { foo: 1 }, { foo: 1, bar: 0 }, {}, true],
    [
      'an automatic group within its bounds',
      { images: 5 },
      { images: 0 },
      { images: { min: 0, max: 8 } },
      true,
    ],
    [
      'an automatic group above its bounds',
      { images: 9 },
      { images: 0 },
      { images: { min: 0, max: 8 } },
      false,
    ],
    [
      'an automatic group below its bounds',
      { images: 1 },
      { images: 2 },
      { images: { min: 2, max: 8 } },
      false,
    ],
    ['both empty', {}, {}, {}, true],
  ]
  it.each(cases)('%s', (_name, running, formation, bounds, expected) => {
    expect(formationMatches(running, { formation, bounds })).toBe(expected)
  })
})
