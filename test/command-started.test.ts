import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import {
  QUIET_FOR_MS,
  QUIET_MIN_MS,
  QUIET_POLL_MS,
  QuietWatch,
  WAIT_CONFIRM_MS,
  WAIT_POLL_MS,
  quietBetween,
  waitingBetween,
  readTree,
  REGISTRATION_POLL_MS,
  WORKER_SETTLE_MS,
  commandWorkerStarted,
  hasCommandWorkerStarted,
  isResqueCommand,
  nextStartCheckAt,
  showsRegisteredTitle,
} from '../src/master/command-started.js'
import { readProcStat } from '../src/proc/process-identity.js'
import { cleanupStates, fixture, processTable, newStateDir, rpd, status, waitFor } from './helpers/cli.js'

afterEach(cleanupStates)

describe('when a command worker counts as started', () => {
  it.each([
    ['bundle exec rake resque:work', true],
    ['bin/resque work', true],
    ['QUEUE=x rake environment resque:work', true],
    ['./idle-worker.sh', false],
    ['sidekiq', false],
    [undefined, false],
  ])('isResqueCommand(%s) is %s', (command, expected) => expect(isResqueCommand(command)).toBe(expected))

  it.each([
    ['resque-2.7.0: Waiting for foo', true],
    ['resque-1.27.4: Processing foo since 1700000000 [Job]', true],
    ['resque-2.7.0: Forked 12 at 1700000000', true],
    ['resque-2.7.0: Paused', true],
    ['resque: Starting', false],
    ['ruby /usr/bin/rake resque:work', false],
    ['', false],
  ])('showsRegisteredTitle(%s) is %s', (title, expected) =>
    expect(showsRegisteredTitle(title)).toBe(expected),
  )

  it('a Resque worker once its title shows it registered; any other once settled', () => {
    const rake = 'rake resque:work'
    expect(commandWorkerStarted(rake, 'ruby /usr/bin/rake resque:work', 60_000)).toBe(false)
    expect(commandWorkerStarted(rake, 'resque-2.7.0: Waiting for foo', WORKER_SETTLE_MS)).toBe(true)
    expect(commandWorkerStarted(rake, 'resque-2.7.0: Waiting for foo', WORKER_SETTLE_MS - 1)).toBe(false)
    expect(commandWorkerStarted('./w.sh', 'sh ./w.sh', WORKER_SETTLE_MS)).toBe(true)
    expect(commandWorkerStarted('./w.sh', 'sh ./w.sh', WORKER_SETTLE_MS - 1)).toBe(false)
  })

  it('looks again at the settle time, then every poll for a Resque worker still loading', () => {
    expect(nextStartCheckAt('rake resque:work', 1000, 1010)).toBe(1000 + WORKER_SETTLE_MS)
    expect(nextStartCheckAt('rake resque:work', 1000, 5000)).toBe(5000 + REGISTRATION_POLL_MS)
    expect(nextStartCheckAt('./w.sh', 1000, 5000)).toBe(1000 + WORKER_SETTLE_MS)
  })

  it('looks at any other command for waiting every WAIT_POLL_MS, from QUIET_MIN_MS every poll, until it settles', () => {
    expect(nextStartCheckAt('./w.sh', 1000, 1000)).toBe(1000 + WAIT_POLL_MS)
    expect(nextStartCheckAt('./w.sh', 1000, 1000 + QUIET_MIN_MS - 1)).toBe(
      1000 + QUIET_MIN_MS - 1 + WAIT_POLL_MS,
    )
    expect(nextStartCheckAt('./w.sh', 1000, 1030)).toBe(1030 + QUIET_POLL_MS)
    expect(nextStartCheckAt('./w.sh', 1000, 1000 + WORKER_SETTLE_MS - 2)).toBe(1000 + WORKER_SETTLE_MS)
  })

  it('calls a tree waiting only when every process stayed blocked waiting for WAIT_CONFIRM_MS without CPU', () => {
    const waiting = (cpuNs: number) => ({ cpuNs, asleep: true, waiting: true })
    const at = (ms: number, reading: { cpuNs: number; asleep: boolean; waiting?: boolean }) => ({
      at: ms,
      reading,
    })
    expect(waitingBetween(at(0, waiting(5)), at(WAIT_CONFIRM_MS, waiting(5)))).toBe(true)
    expect(waitingBetween(at(0, waiting(5)), at(WAIT_CONFIRM_MS - 1, waiting(5)))).toBe(false)
    expect(waitingBetween(at(0, waiting(5)), at(50, waiting(6)))).toBe(false)
    expect(waitingBetween(at(0, { cpuNs: 5, asleep: true, waiting: false }), at(50, waiting(5)))).toBe(false)
    expect(waitingBetween(at(0, waiting(5)), at(50, { cpuNs: 5, asleep: true }))).toBe(false)
    // Asleep but in some other call (a lock, a thread's hand-off): only the quiet window can say.
    expect(waitingBetween(at(0, { cpuNs: 5, asleep: true }), at(50, { cpuNs: 5, asleep: true }))).toBe(false)
  })

  it('calls a tree quiet only when it slept through at least QUIET_FOR_MS without using CPU', () => {
    const asleep = (cpuNs: number) => ({ cpuNs, asleep: true })
    const at = (ms: number, reading: { cpuNs: number; asleep: boolean }) => ({ at: ms, reading })
    expect(quietBetween(at(0, asleep(5)), at(QUIET_FOR_MS, asleep(5)))).toBe(true)
    expect(quietBetween(at(0, asleep(5)), at(QUIET_FOR_MS - 1, asleep(5)))).toBe(false)
    expect(quietBetween(at(0, asleep(5)), at(50, asleep(6)))).toBe(false)
    expect(quietBetween(at(0, { cpuNs: 5, asleep: false }), at(50, asleep(5)))).toBe(false)
    expect(quietBetween(at(0, asleep(5)), at(50, { cpuNs: 5, asleep: false }))).toBe(false)
  })
})

describe('reading a real process tree for quiet', () => {
  const children: ChildProcess[] = []
  // Each command runs in its own process group, killed whole: a subshell's loop must not outlive the test.
  afterEach(() => {
    for (const child of children.splice(0)) {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  })
  const run = (command: string) => {
    const child = spawn('bash', ['-c', command], { stdio: 'ignore', detached: true })
    children.push(child)
    return child.pid!
  }
  const runNode = (script: string) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore', detached: true })
    children.push(child)
    return child.pid!
  }
  // Polls the watch as the master does, until it says quiet or the deadline passes; aliveMs as if the process
  // were that old (0: only waiting can tell).
  async function quietWithin(pid: number, ms: number, aliveMs = QUIET_MIN_MS): Promise<boolean> {
    const watch = new QuietWatch(undefined)
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      if (watch.quiet(pid, Date.now(), aliveMs)) return true
      await sleep(aliveMs < QUIET_MIN_MS ? WAIT_POLL_MS : QUIET_POLL_MS)
    }
    return false
  }
  // Where the kernel says which call a process is blocked in (x86-64 and arm64 here).
  const knowsWaiting = ['x64', 'arm64'].includes(process.arch) && fs.existsSync('/proc/self/syscall')

  it('a shell waiting on a sleeping child is quiet; its tree holds the child', async () => {
    const pid = run('sleep 30; echo done')
    expect(await quietWithin(pid, 5_000)).toBe(true)
    const reading = readTree(pid, undefined)
    expect(reading?.asleep).toBe(true)
  })

  it('a process busy on the CPU, or with a busy child, is never quiet', async () => {
    expect(await quietWithin(run('while :; do :; done'), 500)).toBe(false)
    expect(await quietWithin(run('(while :; do :; done); echo'), 500)).toBe(false)
    expect(await quietWithin(run('while :; do :; done'), 500, 0)).toBe(false)
  })

  it.runIf(knowsWaiting)(
    'a shell waiting on a sleeping child, or Node waiting on a timer, is waiting',
    async () => {
      const shell = run('sleep 30; echo done')
      expect(await quietWithin(shell, 5_000, 0)).toBe(true)
      expect(readTree(shell, undefined)?.waiting).toBe(true)
      // A command that runs Node: told from a fork of this process by its command line.
      const node = runNode('setTimeout(() => {}, 30_000)')
      expect(await quietWithin(node, 5_000, 0)).toBe(true)
      expect(readTree(node, undefined)?.waiting).toBe(true)
    },
  )

  it.runIf(knowsWaiting)(
    'a process asleep in a call that does not wait for the outside is not waiting',
    async () => {
      // Blocked on a lock another thread holds: a futex, not a wait for work.
      const pid = runNode(
        "const a = new Int32Array(new SharedArrayBuffer(4)); new (require('worker_threads').Worker)('setTimeout(()=>{},30000)', { eval: true }); Atomics.wait(a, 0, 0)",
      )
      await waitFor(() => readTree(pid, undefined)?.asleep === true, 'the process asleep')
      expect(await quietWithin(pid, 300, 0)).toBe(false)
      expect(readTree(pid, undefined)?.waiting).toBe(false)
    },
  )

  it('a worker past its settle time that has exited, or is a zombie, has not started', async () => {
    // The subshell exits at once; its parent then execs sleep, which never reaps it: a real zombie.
    const parent = run('(exit 3) & exec sleep 30')
    const zombie = await waitFor(() => {
      const [child] = [...processTable()].filter(([, p]) => p.ppid === parent && p.state === 'Z')[0] ?? []
      return child
    }, 'the zombie')
    expect(hasCommandWorkerStarted('./w.sh', zombie, WORKER_SETTLE_MS + 1)).toBe(false)
    expect(hasCommandWorkerStarted('./w.sh', parent, WORKER_SETTLE_MS + 1)).toBe(true)
    process.kill(-parent, 'SIGKILL')
    await waitFor(() => readProcStat(parent) === undefined, 'the parent gone')
    expect(hasCommandWorkerStarted('./w.sh', parent, WORKER_SETTLE_MS + 1)).toBe(false)
  })

  it('a process that is gone, or still the exec guard, gives no reading', async () => {
    expect(readTree(2 ** 22 + 7, undefined)).toBeUndefined()
    const pid = run('sleep 30; true')
    const deadline = Date.now() + 5_000
    while (readTree(pid, undefined) === undefined && Date.now() < deadline) await sleep(5)
    expect(readTree(pid, undefined)).toBeDefined()
    // The same process seen as the guard a worker is exec'd through: its command has not begun.
    expect(readTree(pid, fs.readlinkSync(`/proc/${pid}/exe`))).toBeUndefined()
  })
})

describe('rpd start with a Resque command that cannot start', () => {
  it('exits non-zero, naming the worker and its last log lines', async () => {
    const dir = newStateDir()
    const result = await rpd(
      ['start', 'foo=1', '--command', 'rake -f /nonexistent/Rakefile resque:work', '--state-dir', dir],
      { env: { WORKERS: '' } },
    )
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(
      /^rpd: a worker for foo exited \(status 1\) while starting, last saying: .*No Rakefile found/,
    )
    expect((await status(dir)).workers.every((w) => w.state !== 'running')).toBe(true)
  })
})

// Each of these dies while starting; `start` must say so, however quickly a worker that waits counts as started.
describe('rpd start with a command that cannot run', () => {
  const hasRuby = spawnSync('ruby', ['-e', '0']).status === 0
  it.each([
    ['a program that does not exist', 'no-such-program-for-rpd --work', /status 127/],
    ['a directory', '/tmp --work', /status 126/],
    ['a missing program run through the shell', 'no-such-program-for-rpd > /dev/null', /status 127/],
    ['Node with a script that does not exist', 'node /nonexistent/rpd-worker.js', /status 1/],
    [
      'Node with an ES module that throws while loading',
      `node '${fixture('throws-on-load.mjs')}'`,
      /status 1/,
    ],
    ['a shell syntax error', 'if then fi', /status 2/],
    ['sh with a script that does not exist', 'sh /nonexistent/rpd-worker.sh', /status 2/],
    ...(hasRuby
      ? [['Ruby requiring a missing library', `ruby -e 'require "no_such_library_for_rpd"'`, /status 1/]]
      : []),
  ] as [string, string, RegExp][])('%s: exits 1 naming the exit', async (_what, command, exit) => {
    const dir = newStateDir()
    const result = await rpd(['start', 'foo=2', '--command', command, '--state-dir', dir])
    expect(result.exitCode, `${result.stdout}${result.stderr}`).toBe(1)
    expect(result.stderr).toMatch(/^rpd: a worker for foo exited \(status \d+\) while starting/)
    expect(result.stderr).toMatch(exit)
  })
})
