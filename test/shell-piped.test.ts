import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, alive, cleanupStates, fixture, newStateDir, rpd, status } from './helpers/cli.js'

afterEach(cleanupStates)

// `rpd shell < commands`: the same verbs read from a pipe, no prompt, as a script would drive it.
function pipedShell(dir: string, input: string, env: Record<string, string> = {}) {
  return execa(process.execPath, [BIN, 'shell', '--state-dir', dir], {
    input,
    reject: false,
    env: { RPD_COMMAND: fixture('idle-worker.sh'), ...env },
    timeout: 60_000,
  })
}

describe('rpd shell reading a pipe', () => {
  it('attaches to a running pool, changes it, and leaves it running on exit', async () => {
    const dir = newStateDir()
    expect(
      (await rpd(['start', 'foo=1', 'bar=1', '--command', fixture('idle-worker.sh'), '--state-dir', dir]))
        .exitCode,
    ).toBe(0)
    const before = await status(dir)
    const bar = before.workers.find((w) => w.queues === 'bar')!.pid
    const result = await pipedShell(dir, 'pid\nconfig foo=3\nbogus\nstatus\nexit\n')
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`attached to the running pool (master ${before.pid})`)
    expect(result.stdout).toMatch(/applied generation 2: foo=3:bar=1/)
    expect(result.stderr).toMatch(/^rpd: .*bogus/m)
    const after = await status(dir)
    expect(after.running).toBe(true)
    expect(after.formation).toEqual({ foo: 3, bar: 1 })
    expect(after.workers.find((w) => w.queues === 'bar')!.pid).toBe(bar)
  })

  it('starts the pool from WORKERS and stops it at the end of the input, saying Bye', async () => {
    const dir = newStateDir()
    const result = await pipedShell(dir, 'status\n', { WORKERS: 'foo=2' })
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/Status: running, pid: (\d+)/)
    const master = Number(/Status: running, pid: (\d+)/.exec(result.stdout)![1])
    expect(result.stdout).toMatch(/manager finished[\s\S]*Bye!/)
    expect(alive(master)).toBe(false)
    expect((await rpd(['status', '--state-dir', dir])).exitCode).toBe(3)
  })
})
