import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, cleanupStates, fixture, newStateDir, rpd, status } from './helpers/cli.js'

// Each row is a shell word list, so raw bytes ($'\xff') reach rpd exactly as a user's shell would pass them.
// {dir} stands for the running pool's state directory.
const HOSTILE: [string, string, number, RegExp][] = [
  ['no =', `scale foo`, 2, /missing '='/],
  ['empty group', `scale =2`, 2, /empty queue group/],
  ['empty count', `scale foo=`, 2, /bad worker count ""/],
  ['fraction', `scale foo=2.5`, 2, /bad worker count "2.5"/],
  ['negative count on start', `start foo=-1 --command true`, 2, /bad worker count "-1"/],
  ['exponent', `scale foo=1e3`, 2, /bad worker count "1e3"/],
  ['huge count', `scale foo=99999999999999999999`, 2, /over the limit of 1000/],
  ['empty queue name', `scale 'foo,,bar=1'`, 2, /empty queue name/],
  ['space in a name', `scale 'a b=1'`, 2, /contains " "/],
  ['newline in a name', `scale $'a\\nb=1'`, 2, /contains "\\n"/],
  ['command substitution with spaces', `scale '$(touch /tmp/rpd-pwned)=1'`, 2, /contains " "/],
  ['rm with spaces', `scale ';rm -rf ~=1'`, 2, /contains " "/],
  ['non-UTF-8 bytes', `scale $'f\\xff\\xfe=1'`, 2, /contains "\uFFFD"/],
  ['a 100 KB name', `scale "$(head -c 102400 /dev/zero | tr '\\0' q)x y=1"`, 2, /\(102403 chars\)/],
  ['unknown flag', `scale foo=1 --frobnicate`, 2, /Nonexistent flag: --frobnicate; see rpd scale --help/],
  [
    'unknown command',
    `frobnicate`,
    2,
    /unknown command "frobnicate"( \(did you mean \w+\?\))?: see rpd --help/,
  ],
  // A swap of two letters is one edit: `stauts` is nearer status than start.
  ['typo of a command', `stauts`, 2, /unknown command "stauts" \(did you mean status\?\): see rpd --help/],
  ['unknown signal', `kill NOSUCHSIG`, 2, /unknown signal "NOSUCHSIG"/],
  ['bad regex', `logs --until '('`, 2, /bad --until pattern "\("/],
  ['missing jobs module', `start foo=1 --jobs ./no/such/jobs.mjs`, 2, /no\/such\/jobs\.mjs/],
  ['bad stop signal', `start foo=1 --command true --stop-signal NOPE`, 2, /unknown signal "NOPE"/],
  ['restart of an unknown group', `restart nosuch`, 2, /no queue group "nosuch"/],
  [
    'non-numeric timeout',
    `stop --timeout soon`,
    2,
    /Parsing --timeout: Expected an integer but received: soon/,
  ],
]

let dir: string
let files: Record<string, string>
const run = promisify(execFile)

function snapshot(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of fs.readdirSync(dir).sort()) {
    if (name === 'master.log' || name === 'status.json') continue
    out[name] = crypto
      .createHash('md5')
      .update(fs.readFileSync(path.join(dir, name)))
      .digest('hex')
  }
  return out
}

beforeAll(async () => {
  dir = newStateDir()
  const started = await rpd(['start', 'foo=1', '--command', fixture('idle-worker.sh'), '--state-dir', dir])
  expect(started.exitCode, started.stderr).toBe(0)
  files = snapshot()
})
afterAll(cleanupStates)

describe('hostile input through the real CLI', () => {
  it.each(HOSTILE)('%s: exit 2, one line naming it, nothing changed', async (_name, words, exit, message) => {
    const before = await status(dir)
    let result: { code: number; stdout: string; stderr: string }
    try {
      const out = await run('bash', ['-c', `node ${BIN} ${words} --state-dir ${dir}`], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      })
      result = { code: 0, stdout: out.stdout, stderr: out.stderr }
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string }
      result = { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
    expect(result.code).toBe(exit)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^rpd: /)
    expect(lines[0]).toMatch(message)
    expect(lines[0].length).toBeLessThan(400)
    expect(snapshot()).toEqual(files)
    const after = await status(dir)
    expect(after.running).toBe(true)
    expect(after.generation).toBe(before.generation)
    expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid))
    expect(fs.existsSync('/tmp/rpd-pwned')).toBe(false)
  })
})
