import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor } from './helpers/cli.js'

afterEach(cleanupStates)
const IDLE = `bash ${fixture('idle-worker.sh')}`
const running = (s: Awaited<ReturnType<typeof status>>, group: string) =>
  s.workers.filter((w) => w.queues === group && w.state === 'running').length

describe('schedules: the formation follows the time of day', () => {
  it('a window flips counts at its edge (on an injected clock) and says so', async () => {
    const dir = newStateDir()
    // The master's schedule clock runs at a Monday 08:59:57 UTC: the 09:00 edge is 3 s away.
    const env = { RPD_CLOCK_OFFSET_MS: String(Date.parse('2030-01-07T08:59:57Z') - Date.now()) }
    const bad = await rpd(['schedule', 'add', 'mon-fri 25:00-18:00', 'ui=6', '--state-dir', dir], { env })
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/bad window/)
    const start = await rpd(['start', 'ui=1', 'reports=1', '--command', IDLE, '--state-dir', dir], { env })
    expect(start.exitCode, start.stderr).toBe(0)
    const added = await rpd(
      ['schedule', 'add', 'mon-fri 09:00-18:00', 'ui=3', 'reports=0', '--tz', 'UTC', '--state-dir', dir],
      { env },
    )
    expect(added.exitCode, added.stderr).toBe(0)
    expect(running(await status(dir), 'ui')).toBe(1)
    await waitFor(async () => running(await status(dir), 'ui') === 3, 'the window to begin', 15_000)
    const s = await status(dir)
    expect(s.workers.filter((w) => w.queues === 'reports')).toHaveLength(0)
    expect((s.schedule as { active: number[] }).active).toEqual([0])
    const log = fs.readFileSync(path.join(dir, 'master.log'), 'utf8')
    expect(log).toMatch(/schedule: window 1 begins \(mon-fri 09:00-18:00 ui=3 reports=0\)/)
    const list = await rpd(['schedule', '--state-dir', dir], { env })
    expect(list.stdout).toMatch(/1 \(active\): mon-fri 09:00-18:00/)
    expect(list.stdout).toMatch(/next change: 2030-01-07T18:00:00.000Z/)
    const removed = await rpd(['schedule', 'rm', '1', '--state-dir', dir], { env })
    expect(removed.exitCode, removed.stderr).toBe(0)
    await waitFor(async () => running(await status(dir), 'reports') === 1, 'the base formation back')
    expect((await rpd(['schedule', 'rm', '5', '--state-dir', dir])).exitCode).toBe(2)
  })
})
