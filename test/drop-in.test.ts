import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, environOf, fixture, newAppDir, newStateDir, rpd, status } from './helpers/cli.js'

const IDLE = fixture('idle-worker.sh')
// Nothing from the test's own environment may choose the formation or the state directory.
const CLEAN = { WORKERS: '', RPD_COMMAND: '', RESQUE_POOL_CONFIG: '', RPD_STATE_DIR: '', RAILS_ENV: '' }
afterEach(cleanupStates)

function write(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return file
}

describe('finding the pool from a subdirectory', () => {
  it('status in a subdirectory sees the parent .rpd pool, and start there starts no second pool', async () => {
    const app = newAppDir()
    const sub = path.join(app, 'config', 'initializers')
    fs.mkdirSync(sub, { recursive: true })
    const started = await rpd(['start', 'foo=1', '--command', IDLE], { cwd: app, env: CLEAN })
    expect(started.exitCode).toBe(0)
    const seen = await rpd(['status', '--json'], { cwd: sub, env: CLEAN })
    expect(seen.exitCode).toBe(0)
    const json = JSON.parse(seen.stdout) as { running: boolean; stateDir: string }
    expect(json.running).toBe(true)
    expect(json.stateDir).toBe(fs.realpathSync(path.join(app, '.rpd')))
    const again = await rpd(['start', 'foo=1', '--command', IDLE], { cwd: sub, env: CLEAN })
    expect(again.exitCode).not.toBe(0)
    expect(again.stderr).toMatch(/already running/)
    expect(fs.existsSync(path.join(sub, '.rpd'))).toBe(false)
  })
})

describe("resque-pool's conventions", () => {
  it('reads the file RESQUE_POOL_CONFIG names, and says so', async () => {
    const dir = newStateDir()
    const app = path.dirname(dir)
    write(path.join(app, 'resque-pool.yml'), 'foo: 1\n')
    write(path.join(app, 'other.yml'), 'bar: 2\n')
    const result = await rpd(['start', '--command', IDLE, '--state-dir', dir], {
      cwd: app,
      env: { ...CLEAN, RESQUE_POOL_CONFIG: 'other.yml' },
    })
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`formation from ${path.join(app, 'other.yml')}: bar=2`)
    expect((await status(dir)).formation).toEqual({ bar: 2 })
  })

  it('-c FILE -E ENV picks the file and its section, and the workers get RACK_ENV/RAILS_ENV/RESQUE_ENV', async () => {
    const dir = newStateDir()
    const app = path.dirname(dir)
    write(path.join(app, 'pools/jobs.yml'), 'foo: 1\nbar: 1\nstaging:\n  bar: 2\n')
    const result = await rpd(
      [
        'start',
        '-c',
        'pools/jobs.yml',
        '-E',
        'staging',
        '-a',
        'billing',
        '--command',
        IDLE,
        '--state-dir',
        dir,
      ],
      { cwd: app, env: CLEAN },
    )
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    const s = await status(dir)
    expect(s.formation).toEqual({ foo: 1, bar: 2 })
    const env = environOf(s.workers[0].pid)
    expect([env.RACK_ENV, env.RAILS_ENV, env.RESQUE_ENV]).toEqual(['staging', 'staging', 'staging'])
    expect(fs.readFileSync(`/proc/${s.pid}/cmdline`, 'utf8')).toMatch(/^resque-pool-master\[billing\]/)
  })

  it('--appname is resque-pool spelling of --app', async () => {
    const dir = newStateDir()
    const result = await rpd(['start', 'foo=1', '--appname', 'shop', '--command', IDLE, '--state-dir', dir], {
      env: CLEAN,
    })
    expect(result.exitCode).toBe(0)
    expect(fs.readFileSync(`/proc/${(await status(dir)).pid}/cmdline`, 'utf8')).toMatch(
      /^resque-pool-master\[shop\]/,
    )
  })

  it('evaluates ERB in resque-pool.yml with Ruby', async () => {
    const dir = newStateDir()
    const app = path.dirname(dir)
    write(
      path.join(app, 'config/resque-pool.yml'),
      'foo: <%= ENV["FOO_WORKERS"] || 2 %>\nbar: <%= 1 + 0 %>\n',
    )
    const result = await rpd(['start', '--command', IDLE, '--state-dir', dir], {
      cwd: app,
      env: { ...CLEAN, FOO_WORKERS: '3' },
    })
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    expect((await status(dir)).formation).toEqual({ foo: 3, bar: 1 })
  })

  it('without ruby on the PATH, ERB is one line naming the file and line, and nothing starts', async () => {
    const dir = newStateDir()
    const app = path.dirname(dir)
    const file = write(path.join(app, 'resque-pool.yml'), 'bar: 1\nfoo: <%= ENV["FOO_WORKERS"] || 2 %>\n')
    const result = await rpd(['start', '--command', IDLE, '--state-dir', dir], {
      cwd: app,
      env: { ...CLEAN, PATH: path.join(app, 'empty-bin') },
    })
    expect(result.exitCode).toBe(2)
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(`${file}:2 uses ERB`)])
    expect(result.stderr).toContain('ruby')
    expect(fs.existsSync(path.join(dir, 'master.pid'))).toBe(false)
  })

  it('reload re-reads the resque-pool.yml the formation came from, as resque-pool does on HUP', async () => {
    const dir = newStateDir()
    const app = path.dirname(dir)
    const file = write(path.join(app, 'resque-pool.yml'), 'foo: 1\n')
    expect(
      (await rpd(['start', '--command', IDLE, '--state-dir', dir], { cwd: app, env: CLEAN })).exitCode,
    ).toBe(0)
    write(file, 'foo: 2\nbar: 1\n')
    const reload = await rpd(['reload', '--state-dir', dir], { cwd: app, env: CLEAN })
    expect(reload.stderr).toBe('')
    expect(reload.exitCode).toBe(0)
    expect(reload.stdout).toContain(`formation from ${file}: foo=2:bar=1`)
    const s = await status(dir)
    expect(s.formation).toEqual({ foo: 2, bar: 1 })
    expect(s.workers.filter((w) => w.state === 'running')).toHaveLength(3)
  })

  it('says when the saved pool.yml and resque-pool.yml differ, and how to choose', async () => {
    const dir = newStateDir()
    const app = path.dirname(dir)
    expect(
      (await rpd(['start', 'foo=1', '--command', IDLE, '--state-dir', dir], { cwd: app, env: CLEAN }))
        .exitCode,
    ).toBe(0)
    expect((await rpd(['stop', '--state-dir', dir], { env: CLEAN })).exitCode).toBe(0)
    write(path.join(app, 'config/resque-pool.yml'), 'bar: 2\n')
    const saved = await rpd(['start', '--state-dir', dir], { cwd: app, env: CLEAN })
    expect(saved.exitCode).toBe(0)
    expect(saved.stdout).toContain(
      'differs from the saved pool.yml: using the saved one; rpd start -c config/resque-pool.yml uses the file',
    )
    expect(saved.stdout).toContain('formation from the saved pool.yml: foo=1')
    expect((await rpd(['stop', '--state-dir', dir], { env: CLEAN })).exitCode).toBe(0)
    const chosen = await rpd(['start', '-c', 'config/resque-pool.yml', '--state-dir', dir], {
      cwd: app,
      env: CLEAN,
    })
    expect(chosen.exitCode).toBe(0)
    expect((await status(dir)).formation).toEqual({ bar: 2 })
  })
})
