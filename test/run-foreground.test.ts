import fs from 'node:fs'
import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BIN,
  alive,
  cleanupStates,
  fixture,
  newStateDir,
  processTable,
  rpd,
  rpdSpawn,
  status,
  waitFor,
} from './helpers/cli.js'

const IDLE = fixture('idle-worker.sh')
const CLEAN = { WORKERS: '', RPD_COMMAND: '', RESQUE_POOL_CONFIG: '', RPD_STATE_DIR: '' }
afterEach(cleanupStates)

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
  } catch {
    return ''
  }
}

describe('rpd run', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`runs the master in the foreground, others attach, and ${signal} stops it gracefully with exit 0`, async () => {
      const dir = newStateDir()
      const run = rpdSpawn(['run', 'foo=2', '--command', IDLE, '--state-dir', dir], { env: CLEAN })
      const up = await waitFor(async () => {
        const s = await status(dir)
        return s.running && s.workers.filter((w) => w.state === 'running').length === 2 ? s : undefined
      }, 'two running workers')
      const scaled = await rpd(['scale', 'foo=3', '--state-dir', dir], { env: CLEAN })
      expect(scaled.exitCode).toBe(0)
      const s = await status(dir)
      expect(s.pid).toBe(up.pid)
      expect(s.workers.filter((w) => w.state === 'running')).toHaveLength(3)
      process.kill(run.pid!, signal)
      const result = await run
      expect(result.exitCode).toBe(0)
      const out = String(result.stdout)
      expect(out).toMatch(/master\[\d+\]: started manager/)
      expect(out).toMatch(/foo\[\d+\]: idle worker for foo/)
      // Graceful: every worker got the stop signal (QUIT) and said so.
      expect(out).toContain(`${signal.slice(3)}: graceful shutdown, sending QUIT to 3 workers`)
      expect(out.match(/quit foo/g)).toHaveLength(3)
      expect(out).toContain('manager finished')
      for (const worker of s.workers) expect(alive(worker.pid)).toBe(false)
    })
  }

  it('as PID 1 (a container) reaps an orphaned process and stops gracefully on TERM', async () => {
    const dir = newStateDir()
    const box = execa(
      'unshare',
      [
        '--pid',
        '--fork',
        '--mount-proc',
        process.execPath,
        BIN,
        'run',
        'foo=1',
        '--command',
        fixture('orphan-worker.sh'),
        '--state-dir',
        dir,
      ],
      { reject: false, env: { ...CLEAN, DEBUG: '' }, stdin: 'ignore' },
    )
    const init = await waitFor(
      () => [...processTable()].find(([, p]) => p.ppid === box.pid)?.[0],
      'the PID-1 rpd run',
    )
    // The orphan: a `sleep 1.5` whose parent (a subshell of the worker) has gone.
    const orphan = await waitFor(
      () => [...processTable()].find(([pid]) => cmdline(pid) === 'sleep 1.5')?.[0],
      'the orphaned sleep',
    )
    await waitFor(
      () => {
        const table = processTable()
        const zombies = [...table].filter(([, p]) => p.state === 'Z' && p.ppid === init)
        return !table.has(orphan) && zombies.length === 0
      },
      'the orphan to exit and be reaped',
      10_000,
    )
    await waitFor(
      () => fs.readFileSync(`${dir}/master.log`, 'utf8').includes('idle worker for foo'),
      'the worker',
    )
    process.kill(init, 'SIGTERM')
    const result = await box
    expect(String(result.stdout)).toContain('TERM: graceful shutdown, sending QUIT to 1 workers')
    expect(String(result.stdout)).toContain('quit foo')
    expect(result.exitCode).toBe(0)
  })
})
