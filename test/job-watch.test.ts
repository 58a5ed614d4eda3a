import { describe, expect, it } from 'vitest'
import { watchedPrefixes } from '../src/resque/job-watch.js'
import { ResqueKeys } from '../src/resque/keys.js'

const keys = new ResqueKeys('resque')

describe('watchedPrefixes', () => {
  const cases: [string[], string[]][] = [
    [['foo'], ['resque:queue:foo']],
    [
      ['foo', 'bar'],
      ['resque:queue:bar', 'resque:queue:foo'],
    ],
    [['foo', 'foo'], ['resque:queue:foo']],
    // Redis refuses overlapping prefixes: foo covers foobar.
    [['foobar', 'foo'], ['resque:queue:foo']],
    [['*'], ['resque:queue:']],
    [['*', 'foo'], ['resque:queue:']],
    [['mail_*'], ['resque:queue:mail_']],
    [['mail_*', 'mail_high'], ['resque:queue:mail_']],
    [['a?c'], ['resque:queue:a']],
    [['[ab]x'], ['resque:queue:']],
    [['x\\*y'], ['resque:queue:x']],
    [
      ['low', 'high*'],
      ['resque:queue:high', 'resque:queue:low'],
    ],
  ]
  for (const [patterns, expected] of cases)
    it(`${JSON.stringify(patterns)} -> ${JSON.stringify(expected)}`, () => {
      expect(watchedPrefixes(keys, patterns)).toEqual(expected)
    })

  it('uses the namespace', () => {
    expect(watchedPrefixes(new ResqueKeys('app'), ['foo'])).toEqual(['app:queue:foo'])
  })
})
