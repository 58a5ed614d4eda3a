import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
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
const strangers: ChildProcess[] = []
afterEach(() => {
  cleanupStates()
  for (const child of strangers.splice(0)) child.kill('SIGKILL')
})

function startTimeOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

// A live process that is not rpd's: the thing rpd must never signal.
function startStranger(): number {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' })
  strangers.push(child)
  return child.pid!
}

async function startPool(dir: string, specs: string[], command = IDLE) {
  const result = await rpd(['start', ...specs, '--command', command, '--state-dir', dir])
  expect(result.exitCode, result.stderr).toBe(0)
  return status(dir)
}

describe('process identity: rpd never signals a stranger', () => {
  const cases: [string, (stranger: number) => string][] = [
    ['a dead pid', () => '999999\n12345\n'],
    ['garbage', () => 'not a pid at all\n'],
    ['0', () => '0\n'],
    ['-1', () => '-1\n'],
    ['an empty file', () => ''],
    ['a live stranger (pid only)', (stranger) => `${stranger}\n`],
    ['a live stranger with its real start time', (stranger) => `${stranger}\n${startTimeOf(stranger)}\n`],
  ]
  it.each(cases)(
    'master.pid holding %s: status not running, stop/scale/kill leave it alone, start succeeds',
    async (_name, content) => {
      const dir = newStateDir()
      fs.mkdirSync(dir, { mode: 0o700 })
      const stranger = startStranger()
      fs.writeFileSync(path.join(dir, 'master.pid'), content(stranger))
      // status.json too names the stranger, as master and as a worker.
      const forged = {
        pid: stranger,
        startTime: startTimeOf(stranger),
        workers: [
          { pid: stranger, startTime: startTimeOf(stranger), queues: 'foo', state: 'running', restarts: 0 },
        ],
      }
      fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify(forged))
      const s = await rpd(['status', '--json', '--state-dir', dir])
      expect(s.exitCode).toBe(3)
      expect(JSON.parse(s.stdout)).toMatchObject({ running: false, pid: null, leftovers: [] })
      expect((await rpd(['stop', '--state-dir', dir])).stdout.trim()).toBe('not running')
      expect((await rpd(['kill', 'TERM', '--state-dir', dir])).exitCode).toBe(3)
      expect((await rpd(['scale', 'foo=1', '--state-dir', dir])).stdout).toMatch(/not running: saved foo=1/)
      expect(alive(stranger)).toBe(true)
      const started = await rpd(['start', '--command', IDLE, '--state-dir', dir], { env: { WORKERS: '' } })
      expect(started.exitCode, started.stderr).toBe(0)
      if (content(stranger) !== '') expect(started.stdout).toMatch(/found .*master\.pid .*: starting afresh/)
      const running = await status(dir)
      expect(running.running).toBe(true)
      expect(running.pid).not.toBe(stranger)
      expect(alive(stranger)).toBe(true)
      await rpd(['stop', '--state-dir', dir])
      expect(alive(stranger)).toBe(true)
    },
  )

  it('a zombie counts as dead', async () => {
    const dir = newStateDir()
    fs.mkdirSync(dir, { mode: 0o700 })
    // The background sleep exits first; its parent (now `sleep 1000`) never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.01 & exec sleep 1000'], { stdio: 'ignore' })
    strangers.push(parent)
    const zombie = await waitFor(
      () =>
        [...fs.readdirSync('/proc')]
          .filter((n) => /^\d+$/.test(n))
          .map(Number)
          .find((pid) => {
            try {
              const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
              const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
              return state === 'Z' && Number(ppid) === parent.pid
            } catch {
              return false
            }
          }),
      'a zombie child',
    )
    fs.writeFileSync(path.join(dir, 'master.pid'), `${zombie}\n${startTimeOf(zombie)}\n`)
    const s = await rpd(['status', '--state-dir', dir])
    expect(s.exitCode).toBe(3)
    expect(s.stdout).toMatch(/not this pool's master \(dead or reused\)/)
  })
})

describe('master death', () => {
  it('kill -9 of the master: idle command workers exit on their own within seconds', async () => {
    const dir = newStateDir()
    const s = await startPool(dir, ['foo=2', 'bar=1'])
    process.kill(s.pid!, 'SIGKILL')
    for (const w of s.workers)
      await waitFor(() => !alive(w.pid) && !groupAlive(w.pid), `worker ${w.pid} gone`, 10_000)
    const after = await rpd(['status', '--json', '--state-dir', dir])
    expect(after.exitCode).toBe(3)
    expect(JSON.parse(after.stdout)).toMatchObject({ running: false, leftovers: [] })
    const logs = fs.readFileSync(path.join(dir, 'master.log'), 'utf8')
    for (const w of s.workers) expect(logs).toContain(`${w.queues}[${w.pid}]: idle worker for ${w.queues}`)
  })

  it('status lists what a dead master left running, and the next start stops it first', async () => {
    const dir = newStateDir()
    const s = await startPool(dir, ['foo=1'], fixture('stubborn-worker.sh'))
    const worker = s.workers[0].pid
    process.kill(s.pid!, 'SIGKILL')
    await waitFor(() => !alive(s.pid!), 'master dead')
    const dead = await rpd(['status', '--state-dir', dir])
    expect(dead.exitCode).toBe(3)
    expect(dead.stdout).toContain(`1 workers of a dead master are still running: ${worker} (foo)`)
    const json = JSON.parse((await rpd(['status', '--json', '--state-dir', dir])).stdout)
    expect(json.leftovers.map((w: { pid: number }) => w.pid)).toEqual([worker])
    const started = await rpd(['start', '--command', IDLE, '--state-dir', dir], { env: { WORKERS: '' } })
    expect(started.exitCode, started.stderr).toBe(0)
    expect(started.stdout).toContain(`stopping 1 workers left by a dead master: ${worker}`)
    expect(alive(worker)).toBe(false)
    expect(groupAlive(worker)).toBe(false)
    expect((await status(dir)).workers).toHaveLength(1)
  })
})

describe('stopping', () => {
  it('an interrupted stop (^C) leaves the pool stopping, and a second stop finishes it', async () => {
    const dir = newStateDir()
    const s = await startPool(dir, ['foo=1'], fixture('stubborn-worker.sh'))
    const stopper = rpdSpawn(['stop', '--timeout', '60', '--state-dir', dir])
    await waitFor(
      () => fs.readFileSync(path.join(dir, 'master.log'), 'utf8').includes('graceful shutdown'),
      'shutdown begun',
    )
    stopper.kill('SIGINT')
    const interrupted = await stopper
    expect(interrupted.exitCode).toBe(1)
    expect(String(interrupted.stderr)).toMatch(/interrupted; the master \d+ goes on stopping/)
    const mid = await status(dir)
    expect(mid.running).toBe(true)
    expect(mid.state).toBe('stopping')
    expect(mid.workers.map((w) => w.state)).toEqual(['stopping'])
    const finished = await rpd(['stop', '--timeout', '1', '--state-dir', dir])
    expect(finished.exitCode).toBe(0)
    expect(alive(s.pid!)).toBe(false)
    expect(groupAlive(s.workers[0].pid)).toBe(false)
  })
})

describe('files', () => {
  it('log rotation: mv master.log master.log.1; rpd reload — new lines go to a new master.log, no worker restarts', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=2'])
    const log = path.join(dir, 'master.log')
    fs.renameSync(log, `${log}.1`)
    expect((await rpd(['reload', '--state-dir', dir])).exitCode).toBe(0)
    await rpd(['scale', 'foo=3', '--state-dir', dir])
    const after = await status(dir)
    for (const w of before.workers) expect(after.workers.map((x) => x.pid)).toContain(w.pid)
    const fresh = fs.readFileSync(log, 'utf8')
    expect(fresh).toMatch(/applying generation 2/)
    expect(fs.readFileSync(`${log}.1`, 'utf8')).not.toMatch(/applying generation 2/)
    expect(fs.readFileSync(`${log}.1`, 'utf8')).toMatch(/started manager/)
  })

  it('creates the state directory 0700 and refuses one writable by others or owned by another user', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    await rpd(['stop', '--state-dir', dir])
    fs.chmodSync(dir, 0o777)
    const open = await rpd(['start', 'foo=1', '--command', IDLE, '--state-dir', dir])
    expect(open.exitCode).toBe(1)
    expect(open.stderr.trim()).toBe(
      `rpd: state directory ${dir} is writable by others (mode 777): run chmod 700 ${dir}`,
    )
    fs.chmodSync(dir, 0o700)
    fs.chownSync(dir, 65534, 65534)
    const foreign = await rpd(['status', '--state-dir', dir])
    expect(foreign.exitCode).toBe(1)
    expect(foreign.stderr).toMatch(/is owned by uid 65534, not you \(uid 0\): pick another --state-dir/)
  })

  it('a read-only state directory: clear errors, the master runs on and catches up once writable', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=1'])
    fs.writeFileSync(path.join(dir, 'probe'), '')
    const { execFileSync } = await import('node:child_process')
    execFileSync('chattr', ['+i', dir])
    try {
      const scale = await rpd(['scale', 'foo=2', '--state-dir', dir])
      expect(scale.exitCode).toBe(1)
      expect(scale.stderr.trim()).toBe(
        `rpd: state directory ${dir} is not writable: fix its permissions or pick another --state-dir`,
      )
      // A worker death forces a status write the directory refuses: logged once, and the pool runs on.
      process.kill(before.workers[0].pid, 'SIGKILL')
      await waitFor(
        () => fs.readFileSync(path.join(dir, 'master.log'), 'utf8').includes('cannot write'),
        'write error logged',
      )
      expect(alive(before.pid!)).toBe(true)
    } finally {
      execFileSync('chattr', ['-i', dir])
    }
    await waitFor(
      async () => (await status(dir)).workers.some((w) => w.restarts === 1 && w.state === 'running'),
      'respawned worker reported',
    )
  })

  it('deleted state files are restored by the running master', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=2', 'bar=1'])
    for (const name of ['status.json', 'master.pid', 'pool.yml']) fs.rmSync(path.join(dir, name))
    await waitFor(
      () => ['status.json', 'master.pid', 'pool.yml'].every((name) => fs.existsSync(path.join(dir, name))),
      'files restored',
    )
    const after = await status(dir)
    expect(after.running).toBe(true)
    expect(after.pid).toBe(before.pid)
    expect(after.workers.map((w) => w.pid).sort()).toEqual(before.workers.map((w) => w.pid).sort())
    // The restored pool.yml keeps the formation, so a relative scale builds on it.
    await rpd(['scale', 'foo=+1', '--state-dir', dir])
    expect((await status(dir)).formation).toEqual({ foo: 3, bar: 1 })
    const again = await rpd(['start', 'foo=1', '--command', IDLE, '--state-dir', dir])
    expect(again.stderr).toMatch(/already running/)
  })

  it('a truncated pool.yml: reload refuses it (exit 2) and the master keeps its formation', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=2'])
    fs.writeFileSync(path.join(dir, 'pool.yml'), 'generation: 1\nformation:\n  foo: ')
    const reload = await rpd(['reload', '--state-dir', dir])
    expect(reload.exitCode).toBe(2)
    const scale = await rpd(['scale', 'foo=3', '--state-dir', dir])
    expect(scale.exitCode).toBe(2)
    expect(scale.stderr).toMatch(/pool\.yml: bad worker count "null" for "foo"/)
    const s = await status(dir)
    expect(s.formation).toEqual({ foo: 2 })
    expect(s.workers.map((w) => w.pid).sort()).toEqual(before.workers.map((w) => w.pid).sort())
  })
})

describe('hostile input', () => {
  it('queue names reach workers only through the environment: shell metacharacters never run', async () => {
    const dir = newStateDir()
    const marker = path.join(path.dirname(dir), 'pwned')
    const names = [
      `$(touch\${IFS}${marker})`,
      `x;touch\${IFS}${marker}`,
      `\`touch\${IFS}${marker}\``,
      `x|touch\${IFS}${marker}`,
      `x&&touch\${IFS}${marker}`,
    ]
    const s = await startPool(
      dir,
      names.map((name) => `${name}=1`),
      fixture('env-worker.sh'),
    )
    expect(s.workers).toHaveLength(names.length)
    for (const w of s.workers) {
      const env = fs.readFileSync(`/proc/${w.pid}/environ`, 'utf8').split('\0')
      expect(env).toContain(`QUEUE=${w.queues}`)
    }
    expect(names.sort()).toEqual(s.workers.map((w) => w.queues).sort())
    await rpd(['restart', '--state-dir', dir])
    expect(fs.existsSync(marker)).toBe(false)
  })

  it('a non-UTF-8 queue name and a 100 KB one are refused with one short line', async () => {
    const dir = newStateDir()
    const { execFileSync } = await import('node:child_process')
    let raw: { status: number | null; stderr: string }
    try {
      execFileSync('bash', ['-c', `node bin/run.js scale $'f\\xff\\xfe=1' --state-dir ${dir}`], {
        encoding: 'utf8',
        stdio: 'pipe',
      })
      raw = { status: 0, stderr: '' }
    } catch (error) {
      const e = error as { status: number; stderr: string }
      raw = { status: e.status, stderr: e.stderr }
    }
    expect(raw.status).toBe(2)
    expect(raw.stderr.trim().split('\n')).toHaveLength(1)
    const huge = await rpd(['scale', `${'q'.repeat(100 * 1024)} =1`, '--state-dir', dir])
    expect(huge.exitCode).toBe(2)
    expect(huge.stderr.length).toBeLessThan(300)
  })
})
