import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, killPool, newStateDir, rpd, waitFor } from './helpers/cli.js'

const IDLE = fixture('idle-worker.sh')
afterEach(cleanupStates)

interface Listing {
  stateDir: string
  pid: number
  app: string
  formation: Record<string, number>
  uptimeSeconds: number
}

describe('rpd list', () => {
  it('lists every running pool with its state dir, pid, app, formation and uptime; stopped and dead ones drop out', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rpdhome-'))
    const env = { HOME: home, XDG_RUNTIME_DIR: '', WORKERS: '', RPD_STATE_DIR: '' }
    const one = newStateDir()
    const two = newStateDir()
    expect(
      (await rpd(['start', 'foo=1', '--app', 'one', '--command', IDLE, '--state-dir', one], { env }))
        .exitCode,
    ).toBe(0)
    expect(
      (await rpd(['start', 'bar=2', '--app', 'two', '--command', IDLE, '--state-dir', two], { env }))
        .exitCode,
    ).toBe(0)
    const registry = path.join(home, '.local/state/rpd/pools', os.hostname())
    expect(fs.readdirSync(registry)).toHaveLength(2)
    const list = async () => {
      const result = await rpd(['list', '--json'], { env })
      expect(result.exitCode).toBe(0)
      return (JSON.parse(result.stdout) as Listing[]).filter((p) => p.stateDir === one || p.stateDir === two)
    }
    const both = await list()
    expect(both.map((p) => [p.stateDir, p.app, p.formation])).toEqual(
      [
        [one, 'one', { foo: 1 }],
        [two, 'two', { bar: 2 }],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    )
    for (const p of both) {
      expect(p.pid).toBeGreaterThan(1)
      expect(p.uptimeSeconds).toBeGreaterThanOrEqual(0)
    }
    const human = await rpd(['list'], { env })
    expect(human.stdout).toMatch(new RegExp(`${one}  pid \\d+  one  foo=1  up `))
    expect((await rpd(['stop', '--state-dir', one], { env })).exitCode).toBe(0)
    expect((await list()).map((p) => p.stateDir)).toEqual([two])
    expect(fs.readdirSync(registry)).toHaveLength(1)
    // A master killed outright leaves its entry: list drops it rather than showing it as running.
    killPool(two)
    await waitFor(async () => (await list()).length === 0, 'the dead pool to drop out')
    expect(fs.readdirSync(registry)).toHaveLength(0)
    fs.rmSync(home, { recursive: true, force: true })
  })
})
