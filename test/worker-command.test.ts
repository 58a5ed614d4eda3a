import fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { hasSetpriv, plainCommandWords } from '../src/master/worker-command.js'
import { cleanupStates, environOf, newStateDir, rpd, status, waitFor } from './helpers/cli.js'

afterEach(cleanupStates)

describe('a command without shell syntax', () => {
  it.each([
    ['sleep 100', ['sleep', '100']],
    ['  bin/resque   work\t--queue=foo,bar  ', ['bin/resque', 'work', '--queue=foo,bar']],
    ["bash '/srv/my app/worker.sh'", ['bash', '/srv/my app/worker.sh']],
    ['node "worker.js" --name=a@b:1 -x %d +1', ['node', 'worker.js', '--name=a@b:1', '-x', '%d', '+1']],
    ['ruby -e \'require "json"; puts 1\'', ['ruby', '-e', 'require "json"; puts 1']],
    ["a'b'\"c\"d ''", ['abcd', '']],
    ['/usr/bin/env', ['/usr/bin/env']],
  ])('%j is run as its words', (command, words) => {
    expect(plainCommandWords(command)).toEqual(words)
  })

  it.each([
    ['QUEUE=foo rake resque:work', 'an assignment'],
    ['sleep $TIME', 'an expansion'],
    ['sleep "$TIME"', 'an expansion in double quotes'],
    ['echo `date`', 'a command substitution'],
    ['worker > log', 'a redirection'],
    ['worker; other', 'two commands'],
    ['worker && other', 'a list'],
    ['worker | other', 'a pipe'],
    ['worker &', 'a background job'],
    ['worker *.rb', 'a glob'],
    ['worker ?', 'a glob of one'],
    ['worker [ab]', 'a bracket glob'],
    ['worker {a,b}', 'a brace expansion'],
    ['worker ~/x', 'a tilde'],
    ['worker # note', 'a comment'],
    ['worker a\\ b', 'a backslash'],
    ['worker "a\\"b"', 'an escaped quote'],
    ["worker 'unclosed", 'an unclosed quote'],
    ['worker\nother', 'a second line'],
    ['exec worker', 'a builtin'],
    ['cd /srv && worker', 'cd'],
    ['ulimit -n 4096', 'ulimit'],
    ['. ./env', 'the dot builtin'],
    ['echo hi', 'echo (a builtin in bash)'],
    ['time worker', 'the time keyword'],
    ['if true; then worker; fi', 'a compound command'],
    ['(worker)', 'a subshell'],
    ["'' worker", 'an empty program name'],
    ['', 'nothing'],
    ['   ', 'only blanks'],
  ])('%j needs the shell: %s', (command) => {
    expect(plainCommandWords(command)).toBeUndefined()
  })
})

// bash sets $_ to the program's path in the environment of what it runs: a worker's $_ tells whether bash ran it.
describe.runIf(hasSetpriv())('rpd start with a plain command', () => {
  async function workerOf(
    command: string,
  ): Promise<{ pid: number; env: Record<string, string>; argv: string[] }> {
    const dir = newStateDir()
    const result = await rpd(['start', 'foo=1', '--command', command, '--state-dir', dir], {
      env: { _: 'rpd-test' },
    })
    expect(result.exitCode, result.stderr).toBe(0)
    const pid = await waitFor(async () => (await status(dir)).workers[0]?.pid, 'the worker')
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1)
    return { pid, env: environOf(pid), argv }
  }

  it('is exec’d without bash, its quoted words intact', async () => {
    const worker = await workerOf("sleep '300'")
    expect(fs.readlinkSync(`/proc/${worker.pid}/exe`)).toMatch(/\/sleep$/)
    expect(worker.argv).toEqual(['sleep', '300'])
    expect(worker.env._).toBe('rpd-test')
  })

  it('one with shell syntax still goes through bash, which execs it', async () => {
    const worker = await workerOf('NAP=300; sleep "$NAP"')
    expect(fs.readlinkSync(`/proc/${worker.pid}/exe`)).toMatch(/\/sleep$/)
    expect(worker.argv).toEqual(['sleep', '300'])
    expect(worker.env._).toMatch(/\/sleep$/)
  })
})
