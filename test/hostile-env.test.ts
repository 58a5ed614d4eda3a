import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, killPool, newStateDir, rpd, status, waitFor } from './helpers/cli.js'

const IDLE = fixture('idle-worker.sh')
const scratch: string[] = []
const mounts: { mount: string; state: string }[] = []
afterEach(() => {
  cleanupStates()
  for (const { mount, state } of mounts.splice(0)) {
    killPool(state)
    execFileSync('umount', ['-l', mount])
  }
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function newScratchDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpdenv-'))
  scratch.push(dir)
  return dir
}

const cwdOf = (pid: number) => fs.readlinkSync(`/proc/${pid}/cwd`)

describe('the working directory', () => {
  it('deleted under a running pool: status, the log, scale and restart name it, and every slot is shown', async () => {
    const dir = newStateDir()
    const app = path.join(newScratchDir(), 'app')
    fs.mkdirSync(app)
    const started = await rpd(['start', 'foo=1', '--command', IDLE, '--state-dir', dir], { cwd: app })
    expect(started.exitCode, started.stderr).toBe(0)
    fs.rmSync(app, { recursive: true })

    const scaled = await rpd(['scale', 'foo=2', '--state-dir', dir, '--timeout', '20'])
    expect(scaled.exitCode).toBe(1)
    expect(scaled.stderr).toContain(`working directory ${app} is gone`)
    const s = await status(dir)
    const foo = s.workers.filter((w) => w.queues === 'foo')
    expect(foo).toHaveLength(2)
    expect(foo.find((w) => w.pid === 0)).toMatchObject({ state: 'backoff' })
    expect(String(foo.find((w) => w.pid === 0)?.problem)).toContain(`working directory ${app} is gone`)
    const text = await rpd(['status', '--state-dir', dir])
    expect(text.stdout).toMatch(new RegExp(`foo: cannot start: working directory ${app} is gone`))
    const log = fs.readFileSync(path.join(dir, 'master.log'), 'utf8')
    expect(log).toContain(`working directory ${app} is gone`)
    expect(log).not.toContain('setpriv ENOENT')

    const restarted = await rpd(['restart', '--state-dir', dir, '--timeout', '20'])
    expect(restarted.exitCode).toBe(1)
    expect(restarted.stderr).toContain(`working directory ${app} is gone`)

    // Back again: the pool fills its slots without being told.
    fs.mkdirSync(app)
    await waitFor(
      async () => (await status(dir)).workers.filter((w) => w.state === 'running').length === 2,
      'both foo workers running once the directory is back',
      40_000,
    )
  }, 90_000)

  it('kept as given: a deploy that flips a `current` symlink and restarts runs the new release', async () => {
    const dir = newStateDir()
    const base = newScratchDir()
    const [release1, release2, current] = ['release1', 'release2', 'current'].map((n) => path.join(base, n))
    fs.mkdirSync(release1)
    fs.mkdirSync(release2)
    fs.symlinkSync(release1, current)
    // As a shell started in current/ would run it: PWD names the symlink, getcwd() the release.
    const env = { PWD: current }
    const started = await rpd(['start', 'foo=2', '--command', IDLE, '--state-dir', dir], {
      cwd: current,
      env,
    })
    expect(started.exitCode, started.stderr).toBe(0)
    const before = await status(dir)
    for (const w of before.workers) expect(cwdOf(w.pid)).toBe(release1)

    fs.symlinkSync(release2, `${current}.next`)
    fs.renameSync(`${current}.next`, current)
    const restarted = await rpd(['restart', '--state-dir', dir], { cwd: current, env })
    expect(restarted.exitCode, restarted.stderr).toBe(0)
    // The replacements run before their predecessors are asked to stop: wait for those to be gone.
    const after = await waitFor(async () => {
      const now = await status(dir)
      return now.workers.length === 2 ? now : undefined
    }, 'the two old workers gone after the rolling restart')
    for (const w of after.workers) {
      expect(before.workers.map((old) => old.pid)).not.toContain(w.pid)
      expect(cwdOf(w.pid)).toBe(release2)
    }
  }, 60_000)
})

// A real filesystem of 50 pages (tmpfs counts whole 4 KiB pages), filled by fill() to the last one.
function mountSmallFs(): {
  mount: string
  state: string
  fill: (sparePages?: number) => void
  empty: () => void
} {
  const mount = path.join(newScratchDir(), 'fs')
  fs.mkdirSync(mount)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200k,mode=0700', 'tmpfs', mount])
  const state = path.join(mount, 'state')
  mounts.push({ mount, state })
  const page = Buffer.alloc(4096, 1)
  const fill = (sparePages = 0) => {
    for (let i = 0; i < sparePages; i++) fs.writeFileSync(path.join(mount, `spare${i}`), page)
    const fd = fs.openSync(path.join(mount, 'fill'), 'a')
    try {
      for (;;) fs.writeSync(fd, page)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
    } finally {
      fs.closeSync(fd)
    }
    for (let i = 0; i < sparePages; i++) fs.rmSync(path.join(mount, `spare${i}`))
  }
  const empty = () => fs.rmSync(path.join(mount, 'fill'), { force: true })
  return { mount, state, fill, empty }
}

const tmpFiles = (dir: string) => fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'))

describe('a full disk under the state directory', () => {
  it('start, scale, reload and the master name ENOSPC and the directory, and leave no .tmp file', async () => {
    const { state, fill, empty } = mountSmallFs()
    fs.mkdirSync(state, { mode: 0o700 })
    const noSpace = `no space left on the filesystem holding ${state} (ENOSPC)`
    const start = ['start', 'foo=1', '--command', IDLE, '--state-dir', state, '--timeout', '20']

    // Not even pool.yml fits.
    fill()
    let result = await rpd(start)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`cannot write ${state}/pool.yml: ${noSpace}`)
    expect(tmpFiles(state)).toEqual([])

    // pool.yml fits, master.pid does not, and nor does the master's reason in master.log.
    empty()
    fill(1)
    result = await rpd(start)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`the master did not start: ${noSpace}`)
    expect(tmpFiles(state)).toEqual([])

    empty()
    result = await rpd(start)
    expect(result.exitCode, result.stderr).toBe(0)
    const worker = (await status(state)).workers[0].pid
    fill()
    // The master respawns a killed worker but cannot rewrite status.json: its log (a page with room) says why.
    process.kill(worker, 'SIGKILL')
    const log = path.join(state, 'master.log')
    await waitFor(
      () => fs.readFileSync(log, 'utf8').includes(`cannot write ${state}/status.json: ${noSpace}`),
      'the master logging that status.json cannot be written',
    )
    expect(tmpFiles(state)).toEqual([])

    result = await rpd(['scale', 'foo=2', '--state-dir', state, '--timeout', '20'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`cannot write ${state}/pool.yml: ${noSpace}`)
    expect(tmpFiles(state)).toEqual([])

    // A hand edit in place needs no new page; the master takes it but cannot say so in status.json.
    const pool = path.join(state, 'pool.yml')
    fs.writeFileSync(pool, fs.readFileSync(pool, 'utf8').replace(/foo: 1/, 'foo: 2'))
    result = await rpd(['reload', '--state-dir', state, '--timeout', '20'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(noSpace)
    expect(result.stderr).not.toContain('still working')

    // Room again: the master catches up.
    empty()
    await waitFor(
      async () => (await status(state)).workers.filter((w) => w.state === 'running').length === 2,
      'both workers in status.json once there is room',
      20_000,
    )
  }, 120_000)
})

describe('symbolic links planted in the state directory', () => {
  it('master.log and *.tmp links are refused by name and their targets never written', async () => {
    const dir = newStateDir()
    fs.mkdirSync(dir, { mode: 0o700 })
    const target = path.join(newScratchDir(), 'target')
    fs.writeFileSync(target, 'precious\n')
    const start = ['start', 'foo=1', '--command', IDLE, '--state-dir', dir]

    fs.symlinkSync(target, path.join(dir, 'pool.yml.tmp'))
    let result = await rpd(start)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`${dir}/pool.yml.tmp is a symbolic link`)
    fs.rmSync(path.join(dir, 'pool.yml.tmp'))

    fs.symlinkSync(target, path.join(dir, 'master.log'))
    result = await rpd(start)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`${dir}/master.log is a symbolic link`)
    fs.rmSync(path.join(dir, 'master.log'))

    fs.symlinkSync(target, path.join(dir, 'master.pid.tmp'))
    result = await rpd(start)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`${dir}/master.pid.tmp is a symbolic link`)
    fs.rmSync(path.join(dir, 'master.pid.tmp'))

    result = await rpd(start)
    expect(result.exitCode, result.stderr).toBe(0)
    expect(fs.readFileSync(target, 'utf8')).toBe('precious\n')
  }, 60_000)
})

describe('a master that does not respond', () => {
  it('SIGSTOPped: status, scale and stop say so with its state from /proc, and it runs on after CONT', async () => {
    const dir = newStateDir()
    const started = await rpd(['start', 'foo=1', '--command', IDLE, '--state-dir', dir])
    expect(started.exitCode, started.stderr).toBe(0)
    const master = (await status(dir)).pid!
    process.kill(master, 'SIGSTOP')
    try {
      const said = `the master ${master} is not responding: its state is T (stopped)`
      const json = await status(dir)
      expect(json.running).toBe(true)
      expect(String(json.notResponding)).toContain(said)
      expect((await rpd(['status', '--state-dir', dir])).stdout).toContain(said)
      const scaled = await rpd(['scale', 'foo=2', '--state-dir', dir, '--timeout', '20'])
      expect(scaled.exitCode).toBe(1)
      expect(scaled.stderr).toContain(said)
      expect(scaled.stderr).not.toContain('still working')
      const stopped = await rpd(['stop', '--state-dir', dir, '--timeout', '20'])
      expect(stopped.exitCode).toBe(1)
      expect(stopped.stderr).toContain(said)
    } finally {
      process.kill(master, 'SIGCONT')
    }
    await waitFor(
      async () => (await status(dir)).workers.filter((w) => w.state === 'running').length === 2,
      'the saved foo=2 applied once the master runs again',
    )
    expect((await status(dir)).notResponding).toBeUndefined()
  }, 90_000)
})
