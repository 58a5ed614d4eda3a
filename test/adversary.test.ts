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

describe('state that names another pool', () => {
  it("pool A's master.pid and status.json copied into dir B: stop --state-dir B leaves A running", async () => {
    const a = newStateDir()
    const b = newStateDir()
    const pool = await startPool(a, ['foo=2'])
    fs.mkdirSync(b, { mode: 0o700 })
    for (const name of ['master.pid', 'status.json']) fs.copyFileSync(path.join(a, name), path.join(b, name))
    const s = await rpd(['status', '--json', '--state-dir', b])
    expect(s.exitCode).toBe(3)
    expect(JSON.parse(s.stdout)).toMatchObject({ running: false, leftovers: [] })
    expect((await rpd(['stop', '--state-dir', b])).stdout.trim()).toBe('not running')
    expect((await rpd(['kill', 'TERM', '--state-dir', b])).exitCode).toBe(3)
    expect(alive(pool.pid!)).toBe(true)
    for (const w of pool.workers) expect(alive(w.pid)).toBe(true)
    expect((await status(a)).workers.map((w) => w.pid)).toEqual(pool.workers.map((w) => w.pid))
  })

  it('a state dir reached through a symlink is one pool: leftovers are found and stopped either way', async () => {
    const real = newStateDir()
    const link = path.join(path.dirname(real), 'link')
    fs.mkdirSync(real, { mode: 0o700 })
    fs.symlinkSync(real, link)
    const pool = await startPool(link, ['foo=1'], fixture('stubborn-worker.sh'))
    const worker = pool.workers[0].pid
    expect(fs.readFileSync(`/proc/${worker}/environ`, 'utf8').split('\0')).toContain(`RPD_STATE_DIR=${real}`)
    process.kill(pool.pid!, 'SIGKILL')
    await waitFor(() => !alive(pool.pid!), 'master dead')
    for (const dir of [real, link]) {
      const json = JSON.parse((await rpd(['status', '--json', '--state-dir', dir])).stdout)
      expect(json.leftovers.map((w: { pid: number }) => w.pid)).toEqual([worker])
    }
    const started = await rpd(['start', '--command', IDLE, '--state-dir', link], { env: { WORKERS: '' } })
    expect(started.exitCode, started.stderr).toBe(0)
    expect(started.stdout).toContain(`stopping 1 workers left by a dead master: ${worker}`)
    expect(alive(worker)).toBe(false)
    expect((await status(real)).stateDir).toBe(real)
  })
})

describe('input refused by name', () => {
  it("--state-dir '' is refused, not taken as ./.rpd", async () => {
    for (const command of [['status'], ['stop'], ['start', 'foo=1', '--command', IDLE]]) {
      const result = await rpd([...command, '--state-dir', ''])
      expect(result.exitCode).toBe(2)
      expect(result.stderr.trim()).toBe('rpd: --state-dir is empty: name a directory, or leave the flag out')
    }
    expect(fs.existsSync(path.join(ROOT, '.rpd', 'pool.yml'))).toBe(false)
  })

  it('a __proto__ group in a hand-edited pool.yml: reload refuses it by name and no worker stops', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=2'])
    const file = path.join(dir, 'pool.yml')
    const yml = fs.readFileSync(file, 'utf8')
    fs.writeFileSync(file, yml.replace('formation:\n', 'formation:\n  __proto__: 1\n'))
    const reload = await rpd(['reload', '--state-dir', dir])
    expect(reload.exitCode).toBe(2)
    expect(reload.stderr).toMatch(/"__proto__" cannot be a queue group name/)
    fs.writeFileSync(file, yml)
    expect((await rpd(['reload', '--state-dir', dir])).exitCode).toBe(0)
    const after = await status(dir)
    expect(after.formation).toEqual({ foo: 2 })
    expect(after.workers.map((w) => w.pid).sort()).toEqual(before.workers.map((w) => w.pid).sort())
  })

  it('restart of a stopped pool exits 3 and leaves pool.yml untouched', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    expect((await rpd(['stop', '--state-dir', dir])).exitCode).toBe(0)
    const file = path.join(dir, 'pool.yml')
    const before = {
      text: fs.readFileSync(file, 'utf8'),
      mtime: fs.statSync(file).mtimeMs,
      ino: fs.statSync(file).ino,
    }
    const restart = await rpd(['restart', 'foo', '--state-dir', dir])
    expect(restart.exitCode).toBe(3)
    const after = fs.statSync(file)
    expect({ text: fs.readFileSync(file, 'utf8'), mtime: after.mtimeMs, ino: after.ino }).toEqual(before)
  })
})

describe('rpd logs --until with a hostile pattern', () => {
  const LINE = `${'a'.repeat(40_000)}!`

  it("'(a+)+$' over a long line of a's: the timeout holds", async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    fs.appendFileSync(path.join(dir, 'master.log'), `${LINE}\n`)
    const result = await rpd(['logs', '--until', '(a+)+$', '--timeout', '3', '--state-dir', dir], {
      timeoutMs: 30_000,
    })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('rpd: no line matched "(a+)+$" within 3 s')
  })

  it('^C ends it while it follows', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    fs.appendFileSync(path.join(dir, 'master.log'), `${LINE}\n`)
    const follower = rpdSpawn(['logs', '--until', '(a+)+$', '--timeout', '600', '--state-dir', dir])
    let seen = ''
    follower.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()))
    await waitFor(() => seen.includes('aaaa!'), 'the long line shown')
    fs.appendFileSync(path.join(dir, 'master.log'), `${LINE}\n`)
    follower.kill('SIGINT')
    const ended = await Promise.race([
      follower,
      new Promise<undefined>((resolve) => setTimeout(resolve, 20_000)),
    ])
    expect(ended, 'logs still running 20 s after ^C').toBeDefined()
    expect(ended!.exitCode).not.toBe(0)
  })
})

// Pids of live processes whose command line is exactly `argv` and that carry this pool's state dir.
function poolProcessesRunning(dir: string, argv: string): number[] {
  const found: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0$/, '').replace(/\0/g, ' ')
      const env = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0')
      if (cmdline === argv && env.includes(`RPD_STATE_DIR=${dir}`) && alive(Number(name)))
        found.push(Number(name))
    } catch {
      // exited while we looked
    }
  }
  return found
}

describe('processes of the pool that status.json does not list', () => {
  it('a daemon a worker starts with setsid -f: status reports it, stop ends it', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'], `setsid -f sleep 4321; exec ${IDLE}`)
    const [daemon] = await waitFor(() => poolProcessesRunning(dir, 'sleep 4321'), 'the daemon')
    const json = await status(dir)
    expect((json.strays as { pid: number }[]).map((p) => p.pid)).toEqual([daemon])
    const text = await rpd(['status', '--state-dir', dir])
    expect(text.stdout).toContain(`1 processes of this pool run outside its workers: ${daemon} (sleep 4321)`)
    const stop = await rpd(['stop', '--state-dir', dir])
    expect(stop.exitCode, stop.stderr).toBe(0)
    expect(stop.stdout).toContain(`stopping 1 processes the pool left outside its workers: ${daemon}`)
    expect(alive(daemon)).toBe(false)
  })

  it('a command bash does not exec, its master killed: the stop signal reaches the whole command', async () => {
    const dir = newStateDir()
    const pool = await startPool(dir, ['foo=1'], 'sleep 4325 | cat; echo done')
    const [sleeper] = await waitFor(() => poolProcessesRunning(dir, 'sleep 4325'), 'the command')
    const [cat] = poolProcessesRunning(dir, 'cat')
    expect(cat).toBeGreaterThan(0)
    process.kill(pool.pid!, 'SIGKILL')
    await waitFor(() => !alive(sleeper) && !alive(cat), 'both sides of the pipeline ended')
    await waitFor(() => poolProcessesRunning(dir, 'sleep 4325').length === 0, 'nothing of the pool left')
  })

  it('a command bash does not exec, its shell and master gone: the orphan is listed, and start ends it', async () => {
    const dir = newStateDir()
    // Ignoring QUIT, the command outlives its master's death watch too, as a process that ignores the stop signal would.
    const pool = await startPool(dir, ['foo=1'], 'trap "" QUIT; sleep 4322; echo done')
    const shell = pool.workers[0].pid
    const [orphan] = await waitFor(() => poolProcessesRunning(dir, 'sleep 4322'), 'the command')
    process.kill(pool.pid!, 'SIGKILL')
    await waitFor(() => !alive(pool.pid!), 'master dead')
    // What a subreaper leaves: the shell gone, its child alive in the group it led.
    process.kill(shell, 'SIGKILL')
    await waitFor(() => !alive(shell), 'shell dead')
    const json = JSON.parse((await rpd(['status', '--json', '--state-dir', dir])).stdout)
    expect(json.running).toBe(false)
    expect(json.strays.map((p: { pid: number }) => p.pid)).toEqual([orphan])
    const started = await rpd(['start', '--command', IDLE, '--state-dir', dir], { env: { WORKERS: '' } })
    expect(started.exitCode, started.stderr).toBe(0)
    expect(started.stdout).toContain(`stopping 1 processes the pool left outside its workers: ${orphan}`)
    expect(alive(orphan)).toBe(false)
    expect((await status(dir)).strays).toBeUndefined()
  })

  it('a worker spawned as its master died, before status.json named it: status lists it, stop ends it', async () => {
    const dir = newStateDir()
    fs.mkdirSync(dir, { mode: 0o700 })
    // The environment the master gives a worker; the master that gave it is gone (a pid no process has).
    const worker = track(
      spawn('sleep', ['4323'], {
        stdio: 'ignore',
        detached: true,
        env: { ...process.env, RPD_STATE_DIR: dir, RPD_MASTER_PID: '999999', QUEUE: 'foo' },
      }),
    )
    const json = JSON.parse((await rpd(['status', '--json', '--state-dir', dir])).stdout)
    expect(json.strays).toEqual([{ pid: worker, command: 'sleep 4323', queues: 'foo', masterPid: 999_999 }])
    const stop = await rpd(['stop', '--state-dir', dir])
    expect(stop.stdout).toContain(`stopping 1 processes the pool left outside its workers: ${worker}`)
    await waitFor(() => !alive(worker), 'the worker ended')
  })

  it('a shell that only exports RPD_STATE_DIR is not the pool’s', async () => {
    const dir = newStateDir()
    fs.mkdirSync(dir, { mode: 0o700 })
    const shell = track(
      spawn('sleep', ['4324'], { stdio: 'ignore', env: { ...process.env, RPD_STATE_DIR: dir } }),
    )
    const json = JSON.parse((await rpd(['status', '--json', '--state-dir', dir])).stdout)
    expect(json.strays).toBeUndefined()
    expect((await rpd(['stop', '--state-dir', dir])).stdout.trim()).toBe('not running')
    expect(alive(shell)).toBe(true)
  })

  it('a neighbour pool whose dir starts with this one’s, or the entry inside another variable, is not the pool’s', async () => {
    const dir = newStateDir()
    fs.mkdirSync(dir, { mode: 0o700 })
    const marks = { RPD_MASTER_PID: '999999', QUEUE: 'foo' }
    const neighbour = track(
      spawn('sleep', ['4325'], {
        stdio: 'ignore',
        env: { ...process.env, ...marks, RPD_STATE_DIR: `${dir}-2` },
      }),
    )
    const quoted = track(
      spawn('sleep', ['4326'], {
        stdio: 'ignore',
        env: { ...process.env, ...marks, RPD_STATE_DIR: '', NOTE: `RPD_STATE_DIR=${dir}` },
      }),
    )
    const json = JSON.parse((await rpd(['status', '--json', '--state-dir', dir])).stdout)
    expect(json.strays).toBeUndefined()
    expect((await rpd(['stop', '--state-dir', dir])).stdout.trim()).toBe('not running')
    expect(alive(neighbour) && alive(quoted)).toBe(true)
  })
})

// The most memory the process has held (VmHWM), in MiB.
function peakRssMiB(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match![1]) / 1024
}

describe('output without newlines', () => {
  it('a 100 MB line and a \\r counter every ms: the master stays small and the log holds bounded lines', async () => {
    const dir = newStateDir()
    const started = await rpd([
      'start',
      'foo=1',
      '--command',
      `exec node ${fixture('noisy-worker.mjs')}`,
      '--state-dir',
      dir,
    ])
    expect(started.exitCode, started.stderr.slice(0, 2000)).toBe(0)
    // start echoes the log while it waits, but a split line only as its first part.
    expect(started.stdout.length).toBeLessThan(1024 * 1024)
    const pool = await status(dir)
    const log = path.join(dir, 'master.log')
    await waitFor(
      () => fs.readFileSync(log, 'utf8').includes('noisy: long line done'),
      'the long line',
      90_000,
      500,
    )
    await waitFor(
      () => /progress 2000\b/.test(fs.readFileSync(log, 'utf8')),
      '2000 progress updates',
      30_000,
      200,
    )
    expect(peakRssMiB(pool.pid!)).toBeLessThan(200)
    const lines = fs.readFileSync(log, 'utf8').split('\n')
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(64 * 1024 + 200)
    expect(lines.filter((l) => l.endsWith(' [line split: continues]')).length).toBe(1600)
    expect(lines.some((l) => /foo\[\d+\]: progress 1000$/.test(l))).toBe(true)
    expect((await rpd(['stop', '--state-dir', dir])).exitCode).toBe(0)
  }, 180_000)
})

describe('reload reports what the master applied', () => {
  it('a hand edit adding a group whose workers cannot run: reload fails naming it, not "reloaded"', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'], `[ "$QUEUE" = bar ] && exit 3; exec ${IDLE}`)
    const file = path.join(dir, 'pool.yml')
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('formation:\n', 'formation:\n  bar: 1\n'))
    const reload = await rpd(['reload', '--timeout', '30', '--state-dir', dir])
    expect(reload.exitCode).toBe(1)
    expect(reload.stderr).toMatch(/a worker for bar exited \(status 3\) while reloading/)
    expect(reload.stdout).not.toMatch(/reloaded generation/)
  })

  it('a hand edit that runs: reload returns once the master runs the new formation', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    const file = path.join(dir, 'pool.yml')
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('formation:\n', 'formation:\n  bar: 2\n'))
    const reload = await rpd(['reload', '--state-dir', dir])
    expect(reload.exitCode, reload.stderr).toBe(0)
    expect(reload.stdout).toMatch(/reloaded generation 1: .*bar=2/)
    const s = await status(dir)
    expect(s.workers.filter((w) => w.queues === 'bar' && w.state === 'running')).toHaveLength(2)
  })
})
