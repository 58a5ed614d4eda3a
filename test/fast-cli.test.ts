import fs from 'node:fs'
import path from 'node:path'
import { Parser } from '@oclif/core'
import { describe, expect, it } from 'vitest'
import { parseCommandLine } from '../src/cli/fast-cli.js'
import { ROOT } from './helpers/cli.js'

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, Parameters<typeof parseCommandLine>[0]>
}

// What oclif itself makes of a command line, from the command class.
async function parseWithOclif(id: string, args: string[]) {
  const { default: command } = await import(`../src/cli/commands/${id}.ts`)
  const { BaseCommand } = await import('../src/cli/base-command.js')
  const result = await Parser.parse(args, {
    flags: { ...BaseCommand.baseFlags, ...command.flags },
    args: command.args ?? {},
    strict: command.strict ?? true,
  })
  return { argv: result.argv as string[], flags: result.flags as Record<string, unknown> }
}

// The fast path must agree with oclif on every line it accepts.
const LINES: [string, string[]][] = [
  ['start', ['foo=2', 'bar=1', '*=1', '--command', 'bundle exec rake resque:work']],
  ['start', ['--command', 'x', 'foo=1:bar=2', '--no-wait', '--timeout', '30', '--state-dir=/tmp/s']],
  ['start', ['-c', 'config/other.yml', '-E', 'production', '-a', 'billing', '--command', 'x']],
  [
    'start',
    [
      'foo=1',
      '--jobs',
      './jobs.mjs',
      '--redis',
      'redis://h:1',
      '--namespace',
      'ns',
      '--app',
      'a',
      '--stop-signal',
      'TERM',
    ],
  ],
  ['scale', ['foo=+2', 'bar=-1', 'baz=0']],
  ['scale', ['foo=4', '--no-wait']],
  ['stop', []],
  ['stop', ['--timeout', '5', '--force']],
  ['status', ['--json']],
  ['logs', ['-n', '100', '-f']],
  ['logs', ['--until', 'Reaped', '--timeout', '9']],
  ['kill', ['HUP']],
  ['restart', ['foo', 'bar']],
  ['reload', ['--no-wait']],
  ['config', ['--path']],
  ['enqueue', ['q', 'Job', '1', '{"a":2}', '--count', '3']],
]

describe('the fast command-line path', () => {
  it.each(LINES)('%s %j parses as oclif parses it', async (id, args) => {
    const fast = parseCommandLine(manifest.commands[id], args)
    expect(fast).toBeDefined()
    const oclif = await parseWithOclif(id, args)
    expect(fast!.argv).toEqual(oclif.argv)
    for (const [name, value] of Object.entries(oclif.flags)) expect(fast!.flags[name], name).toEqual(value)
  })

  it.each([
    ['scale', ['foo=1', '--help']],
    ['scale', ['foo=1', '-h']],
    ['scale', ['foo=1', '--frobnicate']],
    ['scale', ['foo=1', '--timeout', 'soon']],
    ['scale', ['foo=1', '--timeout', '0']],
    ['scale', []],
    ['kill', []],
    ['kill', ['HUP', 'TERM']],
    ['logs', ['-n']],
    ['status', ['extra']],
  ])('leaves %s %j to oclif, which explains what is wrong', (id, args) => {
    expect(parseCommandLine(manifest.commands[id], args as string[])).toBeUndefined()
  })
})
