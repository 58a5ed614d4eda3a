import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor } from './helpers/cli.js'

const IDLE = fixture('idle-worker.sh')
const scratch: string[] = []
afterEach(() => {
  cleanupStates()
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
    const after = await status(dir)
    expect(after.workers).toHaveLength(2)
    for (const w of after.workers) {
      expect(before.workers.map((old) => old.pid)).not.toContain(w.pid)
      expect(cwdOf(w.pid)).toBe(release2)
    }
  }, 60_000)
})
