import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCommandLine } from '../src/cli/fast-cli.js'
import { parseFlagWords } from '../src/cli/parse-flags.js'
import { type CachedCommand, readCommandDoc } from '../src/shell/command-docs.js'
import { parseWords } from '../src/shell/parse-words.js'
import { ROOT } from './helpers/cli.js'

// The built manifest: what bin/run.js's fast path reads and what oclif hands the shell.
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, CachedCommand & Parameters<typeof parseCommandLine>[0]>
}

describe('one flag parser for the fast path and the shell', () => {
  it.each([
    ['scale', ['foo=2', 'bar=+1', '--no-wait']],
    ['scale', ['foo=2', '--timeout', '30']],
    ['start', ['foo=1', '-c', 'bundle exec rake resque:work', '--timeout=5']],
    ['logs', ['-n', '5', '-f', '--until', 'Reaped']],
    ['stop', ['--force']],
    ['status', ['--json']],
  ])('%s %j: the same arguments and flags either way', (id, words) => {
    const command = manifest.commands[id]
    const fast = parseCommandLine(command, words)!
    const shell = parseWords(id, words, readCommandDoc(command).flags)
    expect(shell.args).toEqual(fast.argv)
    // The fast path gives integer flags as numbers (for the actions); the shell reads them where used.
    const asText = Object.fromEntries(
      Object.entries(fast.flags)
        .filter(([name, value]) => name !== 'state-dir' && value !== undefined)
        .map(([name, value]) => [name, typeof value === 'number' ? String(value) : value]),
    )
    expect(shell.flags).toEqual(asText)
  })

  it.each([
    ['scale', ['foo=2', '--frobnicate'], /^scale has no option "--frobnicate": see help scale$/],
    ['logs', ['--until'], /argument missing: see help logs$/],
  ])('%s %j: the fast path leaves it to oclif, the shell says what is wrong', (id, words, message) => {
    const command = manifest.commands[id]
    expect(parseCommandLine(command, words)).toBeUndefined()
    expect(() => parseWords(id, words, readCommandDoc(command).flags)).toThrow(message)
  })

  it('fills in defaults as text and leaves booleans not given out', () => {
    const flags = Object.values(manifest.commands.logs.flags)
    expect(parseFlagWords(flags, ['-f'])).toEqual({
      ok: true,
      args: [],
      flags: { follow: true, lines: '20', timeout: '60' },
    })
    expect(parseFlagWords(flags, ['--lines', '0'])).toMatchObject({ ok: true, flags: { lines: '0' } })
    expect(parseFlagWords(flags, ['--bogus'])).toMatchObject({ ok: false, unknownOption: '--bogus' })
  })
})
