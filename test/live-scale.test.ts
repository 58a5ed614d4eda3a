import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BIN,
  alive,
  cleanupStates,
  fixture,
  newStateDir,
  rpd,
  status,
  waitFor,
  type StatusJson,
} from './helpers/cli.js'

const IDLE = fixture('idle-worker.sh')
afterEach(cleanupStates)

const live = (s: StatusJson, group: string) =>
  s.workers
    .filter((w) => w.queues === group && w.state !== 'stopping')
    .map((w) => w.pid)
    .sort((a, b) => a - b)

async function startPool(dir: string, specs: string[], command = IDLE) {
  const result = await rpd(['start', ...specs, '--command', command, '--state-dir', dir])
  expect(result.exitCode, result.stderr).toBe(0)
  return status(dir)
}

describe('rpd scale', () => {
  it('scaling a group up keeps every existing worker of every group', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=2', 'bar=2', '*=1'])
    const result = await rpd(['scale', 'foo=4', '--state-dir', dir])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/HUP: reloading pool.yml/)
    expect(result.stdout).toMatch(/applied generation 2: foo=4:bar=2:\*=1$/)
    const after = await status(dir)
    expect(after.generation).toBe(2)
    expect(live(after, 'foo')).toHaveLength(4)
    for (const pid of live(before, 'foo')) expect(live(after, 'foo')).toContain(pid)
    expect(live(after, 'bar')).toEqual(live(before, 'bar'))
    expect(live(after, '*')).toEqual(live(before, '*'))
    for (const w of after.workers) expect(w.state).toBe('running')
  })

  it('scaling down stops only the surplus of that group, youngest first, with the stop signal', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=2', 'bar=1'])
    await rpd(['scale', 'foo=3', '--state-dir', dir])
    const before = await status(dir)
    const youngest = before.workers
      .filter((w) => w.queues === 'foo')
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))[0]
    const result = await rpd(['scale', 'foo=-1', '--state-dir', dir])
    expect(result.exitCode).toBe(0)
    await waitFor(async () => !alive(youngest.pid), 'youngest foo worker gone')
    const after = await status(dir)
    expect(live(after, 'foo')).toEqual(live(before, 'foo').filter((pid) => pid !== youngest.pid))
    expect(live(after, 'bar')).toEqual(live(before, 'bar'))
    const logs = (await rpd(['logs', '-n', '50', '--state-dir', dir])).stdout
    expect(logs).toContain(`scale: stopping worker[${youngest.pid}] queues: foo (QUIT)`)
    expect(logs).toContain(`foo[${youngest.pid}]: quit foo`)
    expect(logs).toContain(`Reaped worker[${youngest.pid}] (status: 0) queues: foo`)
  })

  it('foo=0 removes the group; other groups keep their pids', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=2', 'bar=2'])
    await rpd(['scale', 'bar=0', '--state-dir', dir])
    const after = await waitFor(async () => {
      const s = await status(dir)
      return s.workers.every((w) => w.queues !== 'bar') ? s : undefined
    }, 'bar gone')
    expect(after.formation).toEqual({ foo: 2 })
    expect(live(after, 'foo')).toEqual(live(before, 'foo'))
    for (const pid of live(before, 'bar')) expect(alive(pid)).toBe(false)
  })

  it('workers already stopping are neither counted nor asked again', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=2'], fixture('stubborn-worker.sh'))
    await rpd(['scale', 'foo=1', '--state-dir', dir])
    const stopping = await waitFor(
      async () => (await status(dir)).workers.find((w) => w.state === 'stopping'),
      'a stopping worker',
    )
    // Back up to 2: a new worker is started, since the stopping one does not count.
    await rpd(['scale', 'foo=2', '--state-dir', dir])
    const after = await status(dir)
    expect(live(after, 'foo')).toHaveLength(2)
    expect(live(after, 'foo')).not.toContain(stopping.pid)
    expect(after.workers.find((w) => w.pid === stopping.pid)?.state).toBe('stopping')
    expect(before.workers.map((w) => w.pid)).toContain(stopping.pid)
    await rpd(['reload', '--state-dir', dir])
    const logs = (await rpd(['logs', '-n', '200', '--state-dir', dir])).stdout
    expect(logs.split('\n').filter((line) => line.includes(`stopping worker[${stopping.pid}]`))).toHaveLength(
      1,
    )
    expect(alive(stopping.pid)).toBe(true)
  })

  it('reports a no-op change without signalling the master', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=2'])
    const result = await rpd(['scale', 'foo=2', '--state-dir', dir])
    expect(result.exitCode).toBe(0)
    expect(result.stdout.trim()).toBe('no change: the formation is already foo=2')
    expect((await status(dir)).generation).toBe(1)
    expect(fs.readFileSync(path.join(dir, 'master.log'), 'utf8')).not.toContain('HUP')
  })

  it('saves the formation for the next start when the pool is not running', async () => {
    const dir = newStateDir()
    const saved = await rpd(['scale', 'foo=2', 'bar=1', '--state-dir', dir])
    expect(saved.exitCode).toBe(0)
    expect(saved.stdout.trim()).toBe('not running: saved foo=2:bar=1 for the next rpd start')
    const started = await rpd(['start', '--command', IDLE, '--state-dir', dir], { env: { WORKERS: '' } })
    expect(started.exitCode).toBe(0)
    expect((await status(dir)).formation).toEqual({ foo: 2, bar: 1 })
  })

  it('20 concurrent scale calls all land: the lock serialises writers', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    const run = promisify(execFile)
    const script = `for i in $(seq 20); do node ${BIN} scale foo=+1 --state-dir ${dir} >/dev/null 2>&1 & done; wait`
    await run('bash', ['-c', script], { timeout: 120_000 })
    const after = await waitFor(
      async () => {
        const s = await status(dir)
        return s.workers.filter((w) => w.queues === 'foo' && w.state === 'running').length === 21
          ? s
          : undefined
      },
      '21 foo workers',
      30_000,
    )
    expect(after.formation).toEqual({ foo: 21 })
    expect(after.generation).toBe(21)
    expect(fs.readFileSync(path.join(dir, 'pool.yml'), 'utf8')).toMatch(/^generation: 21$/m)
  })

  it('a stop during crash respawns does not leave a worker behind or hang the master', async () => {
    const dir = newStateDir()
    const started = await rpd([
      'start',
      'ok=1',
      'bad=3',
      '--no-wait',
      '--command',
      `[ "$QUEUE" = ok ] && exec ${IDLE}; exit 1`,
      '--state-dir',
      dir,
    ])
    expect(started.exitCode).toBe(0)
    await waitFor(async () => (await status(dir)).workers.some((w) => w.restarts >= 2), 'respawns under way')
    const s = await status(dir)
    const stopped = await rpd(['stop', '--timeout', '10', '--state-dir', dir])
    expect(stopped.exitCode).toBe(0)
    expect(stopped.stdout).not.toContain('escalating')
    expect(alive(s.pid!)).toBe(false)
    for (const w of s.workers) expect(alive(w.pid)).toBe(false)
  })

  it('rejects bad specs with exit 2 and leaves pool.yml as it was', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=1'])
    const before = fs.readFileSync(path.join(dir, 'pool.yml'), 'utf8')
    for (const token of ['foo', '=2', 'foo=2.5', 'foo=+x', 'a b=1', 'foo=1001', 'foo=+1000']) {
      const result = await rpd(['scale', token, '--state-dir', dir])
      expect(result.exitCode, token).toBe(2)
      expect(result.stderr.trim().split('\n'), token).toHaveLength(1)
    }
    expect(fs.readFileSync(path.join(dir, 'pool.yml'), 'utf8')).toBe(before)
  })
})

describe('rpd reload, restart, kill, pause, resume, config', () => {
  it('reload applies a hand-edited pool.yml; a broken one is logged and the pool keeps its last good formation', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=1', 'bar=1'])
    const file = path.join(dir, 'pool.yml')
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace('bar: 1', 'bar: 2')
        .replace(/^generation: 1$/m, 'generation: 2'),
    )
    const reloaded = await rpd(['reload', '--state-dir', dir])
    expect(reloaded.exitCode).toBe(0)
    expect(live(await status(dir), 'bar')).toHaveLength(2)
    const good = fs.readFileSync(file, 'utf8')
    for (const broken of ['formation: [unclosed', good.replace('bar: 2', 'bar: -3'), good.slice(0, 5)]) {
      fs.writeFileSync(file, broken)
      const cli = await rpd(['reload', '--state-dir', dir])
      expect(cli.exitCode).toBe(2)
      expect(cli.stderr).toMatch(new RegExp(`^rpd: ${file}`))
      // The master itself, told by a raw HUP, logs the problem and carries on.
      process.kill(before.pid!, 'SIGHUP')
      await waitFor(
        () => fs.readFileSync(path.join(dir, 'master.log'), 'utf8').includes('keeping generation 2'),
        'master keeps going',
      )
      const s = await status(dir)
      expect(s.running).toBe(true)
      expect(s.formation).toEqual({ foo: 1, bar: 2 })
      expect(live(s, 'foo')).toEqual(live(before, 'foo'))
      fs.writeFileSync(path.join(dir, 'master.log'), '')
    }
  })

  it('restart replaces every worker, starting each replacement before stopping the old one', async () => {
    const dir = newStateDir()
    const before = await startPool(dir, ['foo=2', 'bar=1'])
    const samples: number[] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const s = await status(dir)
        samples.push(s.workers.filter((w) => w.queues === 'foo' && w.state === 'running').length)
      }
    })()
    const result = await rpd(['restart', 'foo', '--state-dir', dir])
    sampling = false
    await sampler
    expect(result.exitCode).toBe(0)
    const after = await status(dir)
    expect(live(after, 'foo')).toHaveLength(2)
    for (const pid of live(before, 'foo')) expect(live(after, 'foo')).not.toContain(pid)
    expect(live(after, 'bar')).toEqual(live(before, 'bar'))
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(2)
    const unknown = await rpd(['restart', 'nosuch', '--state-dir', dir])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toMatch(/no queue group "nosuch"/)
  })

  it('pause, resume and kill USR1 reach every worker through the master', async () => {
    const dir = newStateDir()
    const s = await startPool(dir, ['foo=2'], fixture('signal-worker.sh'))
    expect((await rpd(['pause', '--state-dir', dir])).exitCode).toBe(0)
    expect((await rpd(['resume', '--state-dir', dir])).exitCode).toBe(0)
    expect((await rpd(['kill', 'usr1', '--state-dir', dir])).stdout.trim()).toBe(
      `sent USR1 to master ${s.pid}`,
    )
    await waitFor(async () => {
      const logs = (await rpd(['logs', '-n', '100', '--state-dir', dir])).stdout
      return s.workers.every((w) =>
        ['got USR2 (paused)', 'got CONT (resumed)', 'got USR1'].every((text) =>
          logs.includes(`foo[${w.pid}]: ${text}`),
        ),
      )
    }, 'every worker got every signal')
    expect(live(await status(dir), 'foo')).toEqual(live(s, 'foo'))
  })

  it('pause and USR1 never end a worker still booting: USR2 reaches each worker once it handles it', async () => {
    const dir = newStateDir()
    // Each worker takes 2.5 s to install its handlers; USR1/USR2 before that would end it (their default action).
    const s = await startPool(dir, ['foo=2'], `BOOT_SECONDS=2.5 bash ${fixture('slow-boot-worker.sh')}`)
    const booting = live(s, 'foo')
    const masterLog = () => fs.readFileSync(path.join(dir, 'master.log'), 'utf8')
    expect((await rpd(['pause', '--state-dir', dir])).exitCode).toBe(0)
    expect((await rpd(['kill', 'USR1', '--state-dir', dir])).exitCode).toBe(0)
    const paused = (pid: number) => masterLog().includes(`foo[${pid}]: got USR2 (paused)`)
    await waitFor(() => booting.every(paused), 'both workers to get USR2 once booted')
    const log = masterLog()
    // The signals came while both were booting: neither got them then, and neither died of them.
    expect(log).toContain('USR2: forwarding to 0 workers; 2 not handling USR2 yet get it once they do')
    expect(log).toContain('USR1: forwarding to 0 workers; not to 2 not handling USR1 yet')
    for (const pid of booting) {
      expect(log.indexOf(`foo[${pid}]: booted`)).toBeGreaterThan(log.indexOf('USR2: forwarding'))
      expect(log).not.toContain(`foo[${pid}]: got USR1`)
    }
    const after = await status(dir)
    expect(live(after, 'foo')).toEqual(booting)
    expect(after.workers.every((w) => w.restarts === 0)).toBe(true)

    // A worker added while the pool is paused is paused as soon as it can be.
    expect((await rpd(['scale', 'foo=3', '--state-dir', dir])).exitCode).toBe(0)
    const [added] = live(await status(dir), 'foo').filter((pid) => !booting.includes(pid))
    await waitFor(() => paused(added), 'the added worker to get USR2 once booted')
    expect((await rpd(['resume', '--state-dir', dir])).exitCode).toBe(0)
    await waitFor(
      () => [...booting, added].every((pid) => masterLog().includes(`foo[${pid}]: got CONT (resumed)`)),
      'every worker to get CONT',
    )
    const end = await status(dir)
    expect(live(end, 'foo')).toEqual([...booting, added].sort((a, b) => a - b))
    expect(end.workers.every((w) => w.restarts === 0)).toBe(true)
  })

  it('scale-down stops idle Resque command workers first, as their process titles say', async () => {
    const dir = newStateDir()
    const flags = fs.mkdtempSync(path.join(os.tmpdir(), 'rpd-busy-'))
    try {
      const command = `BUSY_DIR=${flags} node ${fixture('titled-worker.mjs')} ${'.'.repeat(100)}`
      const s = await startPool(dir, ['foo=3'], command)
      // Youngest first (ties in spawn order) would stop the first of these; make all but the last busy.
      const order = s.workers
        .filter((w) => w.queues === 'foo')
        .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
        .map((w) => w.pid)
      const idle = order[order.length - 1]
      const busy = order.slice(0, -1)
      for (const pid of busy) fs.writeFileSync(path.join(flags, `busy-${pid}`), '')
      const title = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]
      await waitFor(
        () => busy.every((pid) => title(pid).startsWith('resque-2.7.0: Processing foo since')),
        'the busy workers to say so in their titles',
      )
      expect(title(idle)).toBe('resque-2.7.0: Waiting for foo')
      expect((await rpd(['scale', 'foo=2', '--state-dir', dir])).exitCode).toBe(0)
      await waitFor(() => !alive(idle), 'the idle worker to stop')
      const after = await status(dir)
      expect(live(after, 'foo')).toEqual([...busy].sort((a, b) => a - b))
    } finally {
      fs.rmSync(flags, { recursive: true, force: true })
    }
  })

  it('kill refuses an unknown signal (exit 2) and says not running (exit 3) without a pool', async () => {
    const dir = newStateDir()
    const none = await rpd(['kill', 'HUP', '--state-dir', dir])
    expect(none.exitCode).toBe(3)
    expect(none.stderr).toMatch(/^rpd: not running/)
    await startPool(dir, ['foo=1'])
    const bad = await rpd(['kill', 'NOSUCHSIG', '--state-dir', dir])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/^rpd: unknown signal "NOSUCHSIG"/)
    expect((await status(dir)).running).toBe(true)
  })

  it('config shows pool.yml, and --path the state files', async () => {
    const dir = newStateDir()
    await startPool(dir, ['foo=2', '*=1'])
    const config = await rpd(['config', '--state-dir', dir])
    expect(config.exitCode).toBe(0)
    expect(config.stdout).toMatch(/^generation: 1\nformation:\n {2}foo: 2\n {2}"\*": 1\ncommand: /)
    const paths = await rpd(['config', '--path', '--state-dir', dir])
    expect(paths.stdout).toContain(`pool.yml: ${dir}/pool.yml`)
    expect(paths.stdout).toContain(`master.log: ${dir}/master.log`)
  })
})
