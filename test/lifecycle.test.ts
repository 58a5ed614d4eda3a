import fs from 'node:fs'
import path from 'node:path'
import pidtree from 'pidtree'
import { afterEach, describe, expect, it } from 'vitest'
import {
  alive,
  childrenOf,
  cleanupStates,
  environOf,
  fixture,
  groupAlive,
  newStateDir,
  rpd,
  status,
  waitFor,
} from './helpers/cli.js'

const IDLE = fixture('idle-worker.sh')
afterEach(cleanupStates)

async function startPool(dir: string, specs: string[], command = IDLE, extra: string[] = []) {
  const result = await rpd(['start', ...specs, '--command', command, '--state-dir', dir, ...extra])
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
  return result
}

describe('rpd start / status', () => {
  it('starts a detached master whose workers match status, ps and the formation', async () => {
    const dir = newStateDir()
    const started = await startPool(dir, ['foo=2', 'bar=1'])
    expect(started.stdout).toMatch(/master\[\d+\]: started manager \(generation 1\)/)
    expect(started.stdout).toMatch(/Status: running, pid: \d+/)
    const s = await status(dir)
    expect(s.running).toBe(true)
    expect(s.stateDir).toBe(dir)
    expect(s.generation).toBe(1)
    expect(s.formation).toEqual({ foo: 2, bar: 1 })
    expect(s.workers.map((w) => w.queues).sort()).toEqual(['bar', 'foo', 'foo'])
    for (const worker of s.workers) {
      expect(worker.state).toBe('running')
      expect(worker.restarts).toBe(0)
      expect(Number.isNaN(Date.parse(worker.startedAt))).toBe(false)
    }
    // ps (through pidtree) sees exactly these workers as the master's children.
    const children = await pidtree(s.pid!, { root: false, advanced: true })
    const direct = children.filter((p) => p.ppid === s.pid).map((p) => p.pid)
    expect(direct.sort()).toEqual(s.workers.map((w) => w.pid).sort())
    // The master is its own session and process group, detached from this test.
    const stat = fs.readFileSync(`/proc/${s.pid}/stat`, 'utf8')
    const [, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    expect(Number(pgrp)).toBe(s.pid)
    expect(Number(session)).toBe(s.pid)
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(fs.readFileSync(path.join(dir, 'master.pid'), 'utf8').split('\n')[0]).toBe(String(s.pid))
  })

  it('titles the master resque-pool-master[APP]: managing [PIDS]', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=2'], IDLE, ['--app', 'billing'])
    const s = await status(dir)
    const title = fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').replace(/\0+$/, '')
    const pids = s.workers.map((w) => w.pid)
    expect(title).toMatch(/^resque-pool-master\[billing\]: managing \[\d+, \d+\]$/)
    for (const pid of pids) expect(title).toContain(String(pid))
    const human = await rpd(['status', '--state-dir', dir])
    expect(human.stdout).toContain(`resque-pool-master[billing]: managing`)
    expect(human.stdout).toMatch(/Configuration:\n {2}foo: 2\n/)
    expect(human.stdout).toMatch(
      /\|--- \d+ \S+ \/bin\/sh .*idle-worker\.sh {2}\(foo, running\)|\\-[+-]- \d+ \S+ \/bin\/sh .*idle-worker\.sh/,
    )
  })

  it('gives each worker its group in QUEUE and QUEUES, and the pid is the command itself', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1', 'baz,quux=1', '*=1'], `cd ${path.dirname(IDLE)} && X=1 ./env-worker.sh`)
    const s = await status(dir)
    expect(s.workers).toHaveLength(3)
    for (const worker of s.workers) {
      const env = environOf(worker.pid)
      expect(env.QUEUE).toBe(worker.queues)
      expect(env.QUEUES).toBe(worker.queues)
      expect(env.RPD_MASTER_PID).toBe(String(s.pid))
      expect(env.RPD_STATE_DIR).toBe(dir)
      // No shell wrapped around it: the worker pid runs the script (bash exec'd it).
      expect(fs.readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8')).toContain('env-worker.sh')
    }
    await waitFor(
      async () =>
        (await rpd(['logs', '-n', '50', '--state-dir', dir])).stdout.match(/env QUEUE=/g)?.length === 3,
      'env lines',
    )
    const logs = (await rpd(['logs', '-n', '50', '--state-dir', dir])).stdout
    for (const worker of s.workers)
      expect(logs).toMatch(
        new RegExp(
          `Z ${worker.queues.replace('*', '\\*')}\\[${worker.pid}\\]: env QUEUE=${worker.queues.replace('*', '\\*')} .* PID=${worker.pid}`,
        ),
      )
  })

  it('refuses a second start while the pool runs', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    const s = await status(dir)
    const again = await rpd(['start', 'foo=3', '--command', IDLE, '--state-dir', dir])
    expect(again.exitCode).toBe(1)
    expect(again.stderr.trim()).toBe(`rpd: already running (pid ${s.pid}): see rpd status, or rpd stop first`)
    expect((await status(dir)).formation).toEqual({ foo: 1 })
  })

  it('takes the formation from WORKERS, then from the saved pool.yml', async () => {
    const dir = newStateDir()
    const first = await rpd(['start', '--command', IDLE, '--state-dir', dir], {
      env: { WORKERS: 'foo=1:bar=2' },
    })
    expect(first.exitCode).toBe(0)
    expect((await status(dir)).formation).toEqual({ foo: 1, bar: 2 })
    expect((await rpd(['stop', '--state-dir', dir])).exitCode).toBe(0)
    const second = await rpd(['start', '--state-dir', dir], { env: { WORKERS: '', RPD_COMMAND: '' } })
    expect(second.exitCode).toBe(0)
    const s = await status(dir)
    expect(s.formation).toEqual({ foo: 1, bar: 2 })
    expect(s.generation).toBe(2)
  })

  it('reads resque-pool.yml with the RAILS_ENV section when nothing else names workers', async () => {
    const dir = newStateDir()
    const app = path.dirname(dir)
    fs.writeFileSync(path.join(app, 'resque-pool.yml'), 'foo: 1\nbar: 1\nproduction:\n  bar: 2\n')
    const result = await rpd(['start', '--command', IDLE, '--state-dir', dir], {
      cwd: app,
      env: { RAILS_ENV: 'production', WORKERS: '' },
    })
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('resque-pool.yml')
    expect((await status(dir)).formation).toEqual({ foo: 1, bar: 2 })
  })

  it('refuses to start without a worker command or workers, writing nothing', async () => {
    const dir = newStateDir()
    const noCommand = await rpd(['start', 'foo=1', '--state-dir', dir], { env: { RPD_COMMAND: '' } })
    expect(noCommand.exitCode).toBe(2)
    expect(noCommand.stderr).toMatch(/^rpd: no worker command: pass --command/)
    const noWorkers = await rpd(['start', '--command', IDLE, '--state-dir', dir], {
      env: { WORKERS: '' },
      cwd: path.dirname(dir),
    })
    expect(noWorkers.exitCode).toBe(2)
    expect(noWorkers.stderr).toMatch(/^rpd: no workers given/)
    expect(fs.existsSync(path.join(dir, 'pool.yml'))).toBe(false)
    expect(fs.existsSync(path.join(dir, 'master.pid'))).toBe(false)
  })

  it('fails start with exit 1 when a worker cannot run, naming the group and status', async () => {
    const dir = newStateDir()
    const result = await rpd(['start', 'foo=1', '--command', fixture('crash-worker.sh'), '--state-dir', dir])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(/^rpd: a worker for foo exited \(status 3\) while starting/)
    expect(result.stdout).toContain('crashing worker for foo')
  })

  it('--no-wait returns once the master is up', async () => {
    const dir = newStateDir()
    const result = await rpd(['start', 'foo=1', '--no-wait', '--command', IDLE, '--state-dir', dir])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/started master \d+/)
    await waitFor(
      async () => (await status(dir)).workers.some((w) => w.state === 'running'),
      'worker running',
    )
  })

  it('status exits 3 and says not running when there is no pool', async () => {
    const dir = newStateDir()
    const human = await rpd(['status', '--state-dir', dir])
    expect(human.exitCode).toBe(3)
    expect(human.stdout).toMatch(/^Status: not running/)
    const json = await rpd(['status', '--json', '--state-dir', dir])
    expect(json.exitCode).toBe(3)
    expect(JSON.parse(json.stdout)).toMatchObject({
      running: false,
      pid: null,
      stateDir: dir,
      generation: 0,
      formation: {},
      workers: [],
    })
  })
})

describe('supervision', () => {
  it('replaces a worker killed with SIGKILL and counts the restart on its slot', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=2', 'bar=1'])
    const before = await status(dir)
    const victim = before.workers.find((w) => w.queues === 'foo')!
    const others = before.workers.filter((w) => w !== victim).map((w) => w.pid)
    process.kill(victim.pid, 'SIGKILL')
    const after = await waitFor(async () => {
      const s = await status(dir)
      const foo = s.workers.filter((w) => w.queues === 'foo' && w.state === 'running')
      return foo.length === 2 && !s.workers.some((w) => w.pid === victim.pid) ? s : undefined
    }, 'replacement worker')
    expect(after.workers.map((w) => w.restarts).sort()).toEqual([0, 0, 1])
    for (const pid of others) expect(after.workers.some((w) => w.pid === pid)).toBe(true)
    const logs = (await rpd(['logs', '--state-dir', dir])).stdout
    expect(logs).toContain(`worker[${victim.pid}] exited unexpectedly (signal KILL) queues: foo`)
  })

  it('backs off a crash-looping worker with a doubling delay instead of spinning', async () => {
    const dir = newStateDir()
    const started = await rpd([
      'start',
      'foo=1',
      '--no-wait',
      '--command',
      fixture('crash-worker.sh'),
      '--state-dir',
      dir,
    ])
    expect(started.exitCode).toBe(0)
    await waitFor(async () => (await status(dir)).workers[0]?.restarts >= 4, 'four restarts', 20_000)
    const logs = (await rpd(['logs', '-n', '100', '--state-dir', dir])).stdout
    const delays = [
      ...logs.matchAll(/exited unexpectedly \(status: 3\) queues: foo; respawning in ([\d.]+) (ms|s)/g),
    ].map(([, n, unit]) => Number(n) * (unit === 's' ? 1000 : 1))
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800])
    const s = await status(dir)
    const worker = s.workers[0]
    expect(['backoff', 'starting', 'running']).toContain(worker.state)
    // Spinning would have respawned hundreds of times by now.
    expect(worker.restarts).toBeLessThan(12)
    const human = await rpd(['status', '--state-dir', dir])
    expect(human.exitCode).toBe(0)
  })
})

describe('rpd stop', () => {
  it('stops gracefully, prints the shutdown log, and leaves no process behind', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=2', 'bar=1'])
    const s = await status(dir)
    const descendants = (await pidtree(s.pid!)) as number[]
    const groups = s.workers.map((w) => w.pid)
    const stopped = await rpd(['stop', '--state-dir', dir])
    expect(stopped.exitCode).toBe(0)
    expect(stopped.stdout).toMatch(/QUIT: graceful shutdown, sending QUIT to 3 workers/)
    expect(stopped.stdout).toMatch(/Reaped worker\[\d+\] \(status: 0\) queues: foo/)
    expect(stopped.stdout).toMatch(/manager finished\nstopped$/)
    for (const pid of [s.pid!, ...descendants]) expect(alive(pid)).toBe(false)
    for (const pgid of groups) expect(groupAlive(pgid)).toBe(false)
    expect(fs.existsSync(path.join(dir, 'master.pid'))).toBe(false)
    expect((await rpd(['status', '--state-dir', dir])).exitCode).toBe(3)
  })

  it('says not running (exit 0) when there is nothing to stop', async () => {
    const dir = newStateDir()
    const result = await rpd(['stop', '--state-dir', dir])
    expect(result.exitCode).toBe(0)
    expect(result.stdout.trim()).toBe('not running')
  })

  it('escalates after --timeout: TERM then KILL of the whole process group of a worker ignoring QUIT', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'], fixture('stubborn-worker.sh'))
    const s = await status(dir)
    const worker = s.workers[0].pid
    const child = await waitFor(
      () =>
        childrenOf(worker).find((pid) =>
          fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\x001000'),
        ),
      'sleep child',
    )
    const stopped = await rpd(['stop', '--timeout', '1', '--state-dir', dir])
    expect(stopped.exitCode).toBe(0)
    expect(stopped.stdout).toContain('escalating to TERM')
    for (const pid of [s.pid!, worker, child]) expect(alive(pid)).toBe(false)
    expect(groupAlive(worker)).toBe(false)
  })

  it('TERM to the master is a fast shutdown', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    const s = await status(dir)
    const stopped = await rpd(['stop', '--force', '--state-dir', dir])
    expect(stopped.exitCode).toBe(0)
    expect(stopped.stdout).toMatch(/TERM: fast shutdown, sending TERM to 1 workers/)
    expect(alive(s.pid!)).toBe(false)
  })
})

describe('rpd logs', () => {
  it('shows the last N lines, and --until waits for a match or times out', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    const last = await rpd(['logs', '-n', '1', '--state-dir', dir])
    expect(last.exitCode).toBe(0)
    expect(last.stdout.trim().split('\n')).toHaveLength(1)
    expect(last.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (master|foo)\[\d+\]: /)
    // Following: the line appears after the follower starts. It cannot tell us when it has started,
    // so keep provoking a new matching line (a HUP) until it has seen one.
    const { rpdSpawn } = await import('./helpers/cli.js')
    const until = rpdSpawn([
      'logs',
      '-n',
      '0',
      '--until',
      'HUP: reloading',
      '--timeout',
      '30',
      '--state-dir',
      dir,
    ])
    let exited = false
    void until.then(() => (exited = true))
    await waitFor(
      async () => {
        if (!exited) await rpd(['kill', 'HUP', '--state-dir', dir])
        return exited
      },
      'logs --until to see a HUP line',
      30_000,
      300,
    )
    const matched = await until
    expect(matched.exitCode).toBe(0)
    expect(String(matched.stdout).trim().split('\n')).toHaveLength(1)
    expect(String(matched.stdout)).toMatch(/master\[\d+\]: HUP: reloading pool.yml and reopening master.log$/)
    // A match among the last lines shown ends it at once.
    await rpd(['scale', 'foo=0', '--state-dir', dir])
    const inTail = await rpd([
      'logs',
      '-n',
      '50',
      '--until',
      'Reaped worker',
      '--timeout',
      '5',
      '--state-dir',
      dir,
    ])
    expect(inTail.exitCode).toBe(0)
    expect(inTail.stdout.trim().split('\n').pop()).toMatch(/Reaped worker\[\d+\] \(status: 0\) queues: foo$/)
    const missed = await rpd([
      'logs',
      '-n',
      '0',
      '--until',
      'never appears',
      '--timeout',
      '1',
      '--state-dir',
      dir,
    ])
    expect(missed.exitCode).toBe(1)
    expect(missed.stderr).toMatch(/no line matched "never appears" within 1 s/)
    const bad = await rpd(['logs', '--until', '(', '--state-dir', dir])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/^rpd: bad --until pattern "\("/)
  })

  it('-f follows new lines and ends when the master exits', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    const { rpdSpawn } = await import('./helpers/cli.js')
    const follower = rpdSpawn(['logs', '-f', '-n', '1', '--state-dir', dir])
    let seen = ''
    follower.stdout?.on('data', (chunk: Buffer) => (seen += chunk.toString()))
    // It prints the last line first: from then on it is following.
    await waitFor(() => seen.includes('\n'), 'logs -f to print the last line')
    await rpd(['stop', '--state-dir', dir])
    const result = await follower
    expect(result.exitCode).toBe(0)
    const output = String(result.stdout)
    expect(output).toContain('QUIT: graceful shutdown')
    expect(output).toContain('manager finished')
  })
})

describe('bad input', () => {
  it.each([
    'foo',
    '=2',
    'foo=',
    'foo=2.5',
    'foo=-1',
    'foo=1e3',
    'foo=99999999999999999999',
    'foo,,bar=1',
    'a b=1',
    'foo=1001',
  ])('start %j: exit 2, one line, nothing written', async (token) => {
    const dir = newStateDir()
    const result = await rpd(['start', token, '--command', IDLE, '--state-dir', dir])
    expect(result.exitCode, result.stderr).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/^rpd: /)
    expect(result.stderr).not.toMatch(/ at /)
    expect(fs.existsSync(path.join(dir, 'pool.yml'))).toBe(false)
  })

  it('rejects an unknown flag with exit 2 and a one-line hint', async () => {
    const result = await rpd(['status', '--bogus'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/^rpd: Nonexistent flag: --bogus; see rpd status --help/)
  })
})
