import { describe, expect, it } from 'vitest'
import { seededRandom as random } from '../src/autoscale/simulate.js'
import { parsePoolYaml, readWrittenPoolYaml, stringifyPoolYaml } from '../src/state/pool-yaml.js'
import { yaml } from '../src/state/yaml.js'
import { defaultPool, formatPool, poolDocument } from '../src/state/pool-file.js'

const PIECES = [
  'foo',
  'bar',
  '*',
  'a,b',
  ' ',
  '  ',
  ':',
  ': ',
  '#',
  ' #',
  '-',
  '- ',
  '"',
  "'",
  '\\',
  '\n',
  '\t',
  '\r',
  '{',
  '}',
  '[',
  ']',
  '&',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  '?',
  ',',
  '.',
  '/',
  '=',
  '0',
  '1',
  '1.5',
  '0x1F',
  '1e3',
  '2..4',
  '..',
  '10',
  'true',
  'null',
  '~',
  'yes',
  'No',
  '.inf',
  'é',
  '日本',
  '\u2028',
  '\u0085',
  '\u007f',
  '\u00a0',
  '\ufeff',
  '😀',
  '\u0000',
  'redis://127.0.0.1:6379/0',
  'bash -c "sleep 1"',
  'QUEUE=foo',
]

function text(next: () => number): string {
  let out = ''
  for (let n = Math.floor(next() * 4); n >= 0; n--) out += PIECES[Math.floor(next() * PIECES.length)]
  return out
}

function value(next: () => number, depth: number): unknown {
  const pick = next()
  if (depth > 0 && pick < 0.2) {
    const doc: Record<string, unknown> = {}
    for (let n = Math.floor(next() * 4); n > 0; n--) doc[text(next)] = value(next, depth - 1)
    return doc
  }
  if (depth > 0 && pick < 0.3)
    return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth - 1))
  if (pick < 0.4) return Math.floor(next() * 1000) - 100
  if (pick < 0.45) return Math.round(next() * 1e6) / 1e3
  if (pick < 0.5) return next() < 0.5
  if (pick < 0.52) return null
  return text(next)
}

function document(seed: number): Record<string, unknown> {
  const next = random(seed)
  const doc: Record<string, unknown> = {}
  for (let n = 1 + Math.floor(next() * 6); n > 0; n--) doc[text(next)] = value(next, 3)
  return doc
}

function hasSequenceInSequence(value: unknown): boolean {
  if (Array.isArray(value))
    return value.some((item) => (Array.isArray(item) && item.length > 0) || hasSequenceInSequence(item))
  return value !== null && typeof value === 'object' && Object.values(value).some(hasSequenceInSequence)
}

const SEEDS = Array.from({ length: 400 }, (_, i) => i + 1)

describe("pool.yml's own YAML", () => {
  it('writes what the yaml package reads back as the same document, and reads it back itself', () => {
    for (const seed of SEEDS) {
      const doc = document(seed)
      const written = stringifyPoolYaml(doc)
      expect(yaml().parse(written), `seed ${seed}:\n${written}`).toEqual(doc)
      // A sequence inside a sequence is written as JSON, which only the yaml package reads.
      if (hasSequenceInSequence(doc)) expect(readWrittenPoolYaml(written)).toBeUndefined()
      else expect(readWrittenPoolYaml(written), `seed ${seed}:\n${written}`).toEqual(doc)
    }
  })

  it('never reads text differently from the yaml package: every edit of written text reads the same or is left to it', () => {
    let direct = 0
    for (const seed of SEEDS) {
      const next = random(seed * 7919)
      const written = stringifyPoolYaml(document(seed))
      for (let edit = 0; edit < 20; edit++) {
        const at = Math.floor(next() * written.length)
        const cut = Math.floor(next() * 3)
        const edited = written.slice(0, at) + (next() < 0.7 ? text(next) : '') + written.slice(at + cut)
        const ours = readWrittenPoolYaml(edited)
        if (ours === undefined) continue
        direct++
        let theirs: unknown
        try {
          theirs = yaml().parse(edited)
        } catch (error) {
          throw new Error(`read directly, but the yaml package rejects it (${String(error)}):\n${edited}`)
        }
        expect(ours, edited).toEqual(theirs)
      }
    }
    // The edits must also reach the direct reader, or this test would show nothing.
    expect(direct).toBeGreaterThan(1000)
  })

  it.each([
    ['a comment', 'formation:\n  foo: 2 # two\n', { formation: { foo: 2 } }],
    ['a flow mapping', 'formation: {foo: 2, bar: 1}\n', { formation: { foo: 2, bar: 1 } }],
    ['a sequence at the indent of its key', 'schedules:\n- a\n- b\n', { schedules: ['a', 'b'] }],
    ['four-space indents', 'formation:\n    foo: 2\n', { formation: { foo: 2 } }],
    ['an anchor and an alias', 'a: &x 1\nb: *x\n', { a: 1, b: 1 }],
    ['a YAML escape', 'command: "sleep\\x201"\n', { command: 'sleep 1' }],
    ['single quotes', "command: 'it''s'\n", { command: "it's" }],
    ['no newline at the end', 'generation: 3', { generation: 3 }],
    ['a document marker', '---\ngeneration: 3\n', { generation: 3 }],
    [
      'CRLF line ends',
      'generation: 3\r\nformation:\r\n  foo: 1\r\n',
      { generation: 3, formation: { foo: 1 } },
    ],
    ['an octal-looking number', 'generation: 0o17\n', { generation: 15 }],
  ])('a hand edit with %s is read as YAML reads it', (_what, edited, expected) => {
    expect(readWrittenPoolYaml(edited)).toBeUndefined()
    expect(parsePoolYaml(edited)).toEqual(expected)
  })

  it('leaves invalid YAML to the yaml package, which says what is wrong', () => {
    expect(() => parsePoolYaml('formation:\n  foo: 1\n  foo: 2\n')).toThrow(/unique/i)
    expect(() => parsePoolYaml('formation: [\n')).toThrow()
  })

  it('writes a pool as readable YAML that reads back directly', () => {
    const pool = {
      ...defaultPool('/srv/app'),
      generation: 4,
      formation: { foo: 2, 'foo,bar': 1, '*': 1, images: 2 },
      bounds: { images: { min: 2, max: 4 } },
      command: 'bundle exec rake resque:work',
      redis: 'redis://127.0.0.1:6380/2',
      schedules: ['mon-fri 09:00-17:00 foo=4'],
    }
    const written = formatPool(pool)
    expect(written).toContain('\ncommand: bundle exec rake resque:work\n')
    expect(written).toContain('\n  "*": 1\n  images: 2..4\n')
    expect(written).toContain('\nredis: redis://127.0.0.1:6380/2\n')
    expect(written).toContain('\nschedules:\n  - mon-fri 09:00-17:00 foo=4\n')
    expect(readWrittenPoolYaml(written)).toEqual(poolDocument(pool))
  })
})
