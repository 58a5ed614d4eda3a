// `rpd start` launches the master before it has written pool.yml and holds it on a pipe: the master's boot
// overlaps the CLI's work. A start that gives up must leave no master and no trace of one.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Pool } from '../dist/index.js'
import { cleanupStates, fixture, newStateDir, ROOT, rpd, status, waitFor } from './helpers/cli.js'

afterEach(cleanupStates)

const HELD_START = path.join(ROOT, 'dist/master/held-start.js')

// Node processes whose environment names dir as their state directory (the held master has no master pid yet).
function processesOf(dir: string): number[] {
  const found: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      const environ = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0')
      const state = fs.readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0]
      if (environ.includes(`RPD_STATE_DIR=${dir}`) && state !== 'Z') found.push(Number(name))
    } catch {
      // gone, or not ours to read
    }
  }
  return found
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

// Runs awaitRelease in a real process, feeding its stdin the given pieces; resolves what it returned.
async function releaseOf(pieces: string[], close = true): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { awaitRelease } = await import(${JSON.stringify(HELD_START)}); process.stdout.write(JSON.stringify(awaitRelease() ?? null))`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (data) => (out += data))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    for (const piece of pieces) {
      child.stdin.write(piece)
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    if (close) child.stdin.end()
    await exited
    return out
  } finally {
    child.kill('SIGKILL')
  }
}

describe('awaitRelease', () => {
  it('returns the document after the word, read in pieces', async () => {
    expect(await releaseOf(['go {"formation":{"foo":8}}\n'])).toBe('"{\\"formation\\":{\\"foo\\":8}}"')
    expect(await releaseOf(['g', 'o {"a"', ':"\\u00e9 \\n"}', '\n'])).toBe(
      JSON.stringify('{"a":"\\u00e9 \\n"}'),
    )
    const big = JSON.stringify({
      schedules: Array.from({ length: 5000 }, (_, i) => `mon 09:00-10:00 q${i}=1`),
    })
    expect(JSON.parse(JSON.parse(await releaseOf([`go ${big}\n`])))).toEqual(JSON.parse(big))
  })

  it('returns nothing for another word, a bare word, or a pipe closed without one', async () => {
    expect(await releaseOf(['stop {}\n'])).toBe('null')
    expect(await releaseOf(['go\n'])).toBe('null')
    expect(await releaseOf(['go {"half":'])).toBe('null')
    expect(await releaseOf([])).toBe('null')
  })
})

describe('a start that gives up', () => {
  it('under the lock (no worker command): no master is left, and no master.log', async () => {
    const dir = newStateDir()
    const result = await rpd(['start', 'foo=1', '--state-dir', dir], { env: { RPD_COMMAND: '' } })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/no worker command/)
    await waitFor(() => processesOf(dir).length === 0, 'the held master to exit', 5_000)
    expect(fs.existsSync(path.join(dir, 'master.log'))).toBe(false)
    expect(fs.existsSync(path.join(dir, 'pool.yml'))).toBe(false)
  })

  it('in a program that lives on: its held master exits all the same', async () => {
    const dir = newStateDir()
    const pool = new Pool({ stateDir: dir })
    await expect(pool.start({ formation: 'foo=1', env: {} })).rejects.toThrow(/no worker command/)
    await waitFor(() => processesOf(dir).length === 0, 'the held master to exit', 5_000)
    expect(fs.existsSync(path.join(dir, 'master.log'))).toBe(false)
  })

  it('a second start of a running pool leaves it as it was: one master, the same workers', async () => {
    const dir = newStateDir()
    const first = await rpd(['start', 'foo=2', '--command', fixture('idle-worker.sh'), '--state-dir', dir])
    expect(first.exitCode, first.stderr).toBe(0)
    const before = await status(dir)
    const second = await rpd(['start', 'foo=1', '--command', fixture('idle-worker.sh'), '--state-dir', dir])
    expect(second.exitCode).toBe(1)
    expect(second.stderr).toMatch(/already running/)
    const masters = () =>
      processesOf(dir).filter((pid) => /master-main\.js|resque-pool-master\[/.test(cmdline(pid)))
    await waitFor(() => masters().length === 1, 'one master', 5_000)
    expect(masters()).toEqual([before.pid])
    const after = await status(dir)
    expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid))
  })
})

describe('a start that goes on', () => {
  it('runs exactly the pool it wrote to pool.yml', async () => {
    const dir = newStateDir()
    const started = await rpd([
      'start',
      'foo=2',
      'bar,baz=1',
      '--command',
      fixture('idle-worker.sh'),
      '--interval',
      '0.5',
      '--app',
      'héllo "app"',
      '--state-dir',
      dir,
    ])
    expect(started.exitCode, started.stderr).toBe(0)
    const json = await status(dir)
    expect(json.formation).toEqual({ foo: 2, 'bar,baz': 1 })
    expect(json.workers.filter((w) => w.state === 'running')).toHaveLength(3)
    const title = fs.readFileSync(`/proc/${json.pid}/cmdline`, 'utf8')
    expect(title).toContain('resque-pool-master[héllo "app"]')
  })
})
