import { describe, expect, it } from 'vitest'
import { readCommandDocs } from '../src/shell/command-docs.js'
import { findCommand } from '../src/shell/commands.js'
import { completeLine } from '../src/shell/complete-line.js'
import { formatCommandHelp } from '../src/shell/help-text.js'
import { parseWords, readWholeNumber } from '../src/shell/parse-words.js'
import { splitLine } from '../src/shell/split-line.js'

describe('splitLine', () => {
  it.each([
    ['config foo=1 bar=4', ['config', 'foo=1', 'bar=4']],
    ['  status   --json ', ['status', '--json']],
    ["log.tail_until 'Starting worker'", ['log.tail_until', 'Starting worker']],
    ['logs --until "Reaped.*\\"bar\\""', ['logs', '--until', 'Reaped.*"bar"']],
    ['config *=1 $QUEUE=2', ['config', '*=1', '$QUEUE=2']],
    ['config foo\\ bar=1', ['config', 'foo bar=1']],
    ["say ''", ['say', '']],
    ['', []],
  ])('%j', (line, words) => {
    expect(splitLine(line)).toEqual(words)
  })

  it('rejects an unterminated quote in one line', () => {
    expect(() => splitLine("log.tail_until 'Starting")).toThrow(/^unterminated ' quote/)
  })
})

const docs = readCommandDocs([
  {
    id: 'scale',
    summary: 'Change worker counts.',
    description: 'Merges into the formation.',
    examples: ['<%= config.bin %> scale bar=4 foo=0', '<%= config.bin %> scale foo=1 | cat'],
    flags: {
      'state-dir': { name: 'state-dir', type: 'option' },
      'no-wait': { name: 'no-wait', type: 'boolean', description: 'return at once' },
      timeout: { name: 'timeout', type: 'option', default: 60, description: 'seconds to wait' },
    },
    args: { spec: { name: 'spec', description: 'QUEUE=COUNT' } },
  },
  {
    id: 'config',
    summary: 'Show pool.yml.',
    examples: ['<%= config.bin %> config --path'],
    flags: {},
    args: {},
  },
  { id: 'work', hidden: true, flags: {}, args: {} },
])

describe('parseWords', () => {
  const flags = docs.get('scale')!.flags

  it('splits arguments from the flags of the rpd command, with its defaults; the shell owns --state-dir', () => {
    expect(parseWords('config', ['foo=1', '--no-wait', 'bar=-1'], flags)).toEqual({
      args: ['foo=1', 'bar=-1'],
      flags: { 'no-wait': true, timeout: '60' },
    })
    expect(() => parseWords('config', ['--state-dir', '/tmp'], flags)).toThrow(
      'config has no option "--state-dir"',
    )
  })

  it('names the option at fault and where to read more', () => {
    expect(() => parseWords('config', ['--wait'], flags)).toThrow(
      /^config has no option "--wait": see help config$/,
    )
    expect(() => parseWords('config', ['--timeout'], flags)).toThrow(/see help config$/)
  })

  it.each([
    ['12', 12],
    ['0', 0],
  ])('reads the whole number %s', (text, value) => {
    expect(readWholeNumber(text, 'N')).toBe(value)
  })

  it.each(['1e3', '-1', ' 2', '2.5', ''])('refuses %j as a whole number', (text) => {
    expect(() => readWholeNumber(text, '--timeout', 1)).toThrow(/^--timeout must be a whole number/)
  })
})

describe('completeLine', () => {
  const sources = {
    commands: ['status', 'start', 'start!', 'config', 'kill!'],
    argKind: (name: string) => findCommand(name)?.complete,
    flags: () => ['--no-wait', '--timeout'],
    groups: () => ['foo', 'bar', '*'],
  }

  it.each([
    ['stat', [['status '], 'stat']],
    ['sta', [['status', 'start', 'start!'], 'sta']],
    ['config f', [['foo='], 'f']],
    ['config foo=1 ', [['foo=', 'bar=', '*='], '']],
    ['config foo=', [[], 'foo=']],
    ['kill! U', [['USR1', 'USR2'], 'U']],
    ['rpd config --no', [['--no-wait'], '--no']],
    ['pid x', [[], 'x']],
  ])('%j', (line, expected) => {
    expect(completeLine(line, sources)).toEqual(expected)
  })
})

describe('help COMMAND', () => {
  it("is the rpd command's summary, description, options and examples, in the shell's words", () => {
    const config = findCommand('config')!
    const help = formatCommandHelp(config, docs.get('scale')!.flags, docs)
    expect(help).toContain('rpd scale: Change worker counts.')
    expect(help).toContain('  Merges into the formation.')
    expect(help).toContain('  --timeout <value>  seconds to wait (default: 60)')
    expect(help).toContain('  config bar=4 foo=0')
    expect(help).toContain('  config --path')
    expect(help).toContain('  $ rpd scale foo=1 | cat')
  })
})
