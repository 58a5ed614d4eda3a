import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BIN,
  ROOT,
  alive,
  cleanupStates,
  fixture,
  groupAlive,
  newStateDir,
  rpd,
  rpdSpawn,
  status,
  waitFor,
} from './helpers/cli.js'

const IDLE = fixture('idle-worker.sh')
const NOBODY = 65534
const strangers: ChildProcess[] = []
afterEach(() => {
  cleanupStates()
  for (const child of strangers.splice(0)) child.kill('SIGKILL')
})

function startTimeOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

function track(child: ChildProcess): number {
  strangers.push(child)
  return child.pid!
}

// Runs the CLI as an unprivileged user, who cannot read a setuid process's environment.
async function rpdAsNobody(args: string[], home: string) {
  const result = await execa(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, BIN, ...args],
    { reject: false, cwd: ROOT, env: { DEBUG: '', HOME: home }, stdin: 'ignore', timeout: 60_000 },
  )
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) }
}

async function startPool(dir: string, specs: string[], command = IDLE) {
  const result = await rpd(['start', ...specs, '--command', command, '--state-dir', dir])
  expect(result.exitCode, result.stderr).toBe(0)
  return status(dir)
}

describe('membership must be proved before rpd signals', () => {
  it('a worker whose environment cannot be read (setuid, real uid the user) is not the pool’s', async () => {
    const dir = newStateDir()
    const base = path.dirname(dir)
    fs.mkdirSync(dir, { mode: 0o700 })
    fs.chownSync(base, NOBODY, NOBODY)
    fs.chownSync(dir, NOBODY, NOBODY)
    // Like `su` at its prompt: real uid the user's (so the user may signal it), effective uid root.
    const stranger = track(spawn('setpriv', [`--ruid=${NOBODY}`, 'sleep', '1000'], { stdio: 'ignore' }))
    await waitFor(() => fs.readFileSync(`/proc/${stranger}/cmdline`, 'utf8').startsWith('sleep'), 'exec')
    const forged = {
      pid: 999_999,
      startTime: '1',
      workers: [
        { pid: stranger, startTime: startTimeOf(stranger), queues: 'foo', state: 'running', restarts: 0 },
      ],
    }
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify(forged))
    fs.chownSync(path.join(dir, 'status.json'), NOBODY, NOBODY)
    const s = await rpdAsNobody(['status', '--json', '--state-dir', dir], base)
    expect(s.exitCode, s.stderr).toBe(3)
    expect(JSON.parse(s.stdout)).toMatchObject({ running: false, leftovers: [] })
    const stop = await rpdAsNobody(['stop', '--state-dir', dir], base)
    expect(stop.stdout.trim()).toBe('not running')
    expect(alive(stranger)).toBe(true)
  })
})

describe('a second stop', () => {
  it('a plain stop of a pool already stopping waits; only its timeout escalates', async () => {
    const dir = newStateDir()
    const s = await startPool(dir, ['foo=1'], fixture('stubborn-worker.sh'))
    const log = path.join(dir, 'master.log')
    const stopper = rpdSpawn(['stop', '--timeout', '60', '--state-dir', dir])
    await waitFor(() => fs.readFileSync(log, 'utf8').includes('graceful shutdown'), 'shutdown begun')
    stopper.kill('SIGINT')
    expect((await stopper).exitCode).toBe(1)
    const second = await rpd(['stop', '--timeout', '3', '--state-dir', dir])
    expect(second.exitCode, second.stderr).toBe(0)
    // The stubborn worker ignores QUIT: had the second stop escalated at once, the timeout would never pass.
    expect(second.stdout).toContain('workers still running after 3 s: escalating to TERM')
    expect(alive(s.pid!)).toBe(false)
    expect(groupAlive(s.workers[0].pid)).toBe(false)
  })

  it('--force on a stopping pool escalates at once', async () => {
    const dir = newStateDir()
    const s = await startPool(dir, ['foo=1'], fixture('stubborn-worker.sh'))
    const log = path.join(dir, 'master.log')
    const stopper = rpdSpawn(['stop', '--timeout', '60', '--state-dir', dir])
    await waitFor(() => fs.readFileSync(log, 'utf8').includes('graceful shutdown'), 'shutdown begun')
    stopper.kill('SIGINT')
    await stopper
    const forced = await rpd(['stop', '--force', '--timeout', '30', '--state-dir', dir])
    expect(forced.exitCode, forced.stderr).toBe(0)
    expect(forced.stdout).not.toContain('still running after')
    expect(fs.readFileSync(log, 'utf8')).toContain('stubborn got TERM')
    expect(alive(s.pid!)).toBe(false)
  })
})

describe('timeouts a timer cannot hold', () => {
  it('--timeout of 2^31 ms or more is refused (exit 2) by every command that takes one; the pool runs on', async () => {
    const dir = newStateDir()
    const s = await startPool(dir, ['foo=1'])
    const commands = [
      ['stop'],
      ['scale', 'foo=2'],
      ['start', 'foo=1', '--command', IDLE],
      ['restart'],
      ['reload'],
      ['logs', '--until', 'never matches'],
    ]
    for (const seconds of ['2147484', '2200000', '99999999999']) {
      for (const command of commands) {
        const result = await rpd([...command, '--timeout', seconds, '--state-dir', dir])
        expect(result.exitCode, `${command[0]}: ${result.stderr}`).toBe(2)
        expect(result.stderr.trim()).toBe(`rpd: --timeout ${seconds}: at most 2147483 s (about 24 days)`)
      }
    }
    const after = await status(dir)
    expect(after.pid).toBe(s.pid)
    expect(after.workers.map((w) => w.pid)).toEqual(s.workers.map((w) => w.pid))
    const longest = await rpd([
      'logs',
      '--until',
      'started manager',
      '--timeout',
      '2147483',
      '--state-dir',
      dir,
    ])
    expect(longest.exitCode, longest.stderr).toBe(0)
  })
})
