import { afterEach, describe, expect, it } from 'vitest'
import { BIN, ROOT, cleanupStates, fixture, newStateDir, rpd, status } from './helpers/cli.js'
import { TmuxPane } from './helpers/tmux.js'

const IDLE = fixture('idle-worker.sh')
const panes: TmuxPane[] = []
afterEach(async () => {
  panes.splice(0).forEach((pane) => pane.close())
  await cleanupStates()
})

function openTop(dir: string, columns = 120, rows = 30): TmuxPane {
  const pane = new TmuxPane()
  panes.push(pane)
  pane.open(`echo before-top; '${process.execPath}' '${BIN}' top --state-dir '${dir}'`, {
    columns,
    rows,
    cwd: ROOT,
  })
  return pane
}

const liveOf = async (dir: string, group: string) =>
  (await status(dir)).workers.filter((w) => w.queues === group && w.state !== 'stopping').length

describe('rpd top in a terminal', () => {
  it('shows groups and workers, scales the selected group with + and -, and q restores the screen', async () => {
    const dir = newStateDir()
    expect((await rpd(['start', 'foo=1', 'bar=1', '--command', IDLE, '--state-dir', dir])).exitCode).toBe(0)
    const before = await status(dir)
    const pane = openTop(dir)
    await pane.until((s) => s.some((l) => l.startsWith('rpd top  running')), 'the first frame')
    let screen = pane.screen()
    expect(screen.some((l) => l.includes('before-top'))).toBe(false)
    expect(screen.some((l) => /^> foo\s+1\/1/.test(l))).toBe(true)
    expect(screen.some((l) => /^ {2}bar\s+1\/1/.test(l))).toBe(true)
    for (const worker of before.workers) expect(screen.some((l) => l.includes(String(worker.pid)))).toBe(true)

    pane.keys('+')
    await pane.until(async () => (await liveOf(dir, 'foo')) === 2, 'foo to have 2 workers')
    expect((await status(dir)).formation).toEqual({ foo: 2, bar: 1 })
    await pane.until((s) => s.some((l) => /^> foo\s+2\/2/.test(l)), 'the frame to show foo 2/2')

    pane.keys('Down')
    await pane.until((s) => s.some((l) => /^> bar/.test(l)), 'bar to be selected')
    pane.keys('-')
    await pane.until(async () => (await liveOf(dir, 'bar')) === 0, 'bar scaled to 0')
    expect((await status(dir)).formation.bar ?? 0).toBe(0)

    // A smaller terminal gets a frame of its size.
    pane.resize(60, 12)
    await pane.until((s) => s.length <= 12 && s.some((l) => l.startsWith('↑↓ select')), 'a frame for 60x12')
    expect(pane.screen().every((l) => l.length <= 60)).toBe(true)

    pane.keys('q')
    screen = await pane.until((s) => (s.some((l) => l === '[exited 0]') ? s : undefined), 'top to exit')
    expect(screen[0]).toBe('before-top')
    expect(screen.some((l) => l.includes('rpd top'))).toBe(false)
  })

  it('leaves on ^C too, with the screen restored', async () => {
    const dir = newStateDir()
    expect((await rpd(['start', 'foo=1', '--command', IDLE, '--state-dir', dir])).exitCode).toBe(0)
    const pane = openTop(dir)
    await pane.until((s) => s.some((l) => l.startsWith('rpd top  running')), 'the first frame')
    pane.keys('C-c')
    const screen = await pane.until((s) => (s.some((l) => l === '[exited 0]') ? s : undefined), 'top to exit')
    expect(screen[0]).toBe('before-top')
    expect(screen.some((l) => l.includes('GROUP'))).toBe(false)
  })
})

describe('rpd top --once', () => {
  it('prints one plain frame when not on a terminal', async () => {
    const dir = newStateDir()
    expect((await rpd(['start', 'foo=2', '--command', IDLE, '--state-dir', dir])).exitCode).toBe(0)
    const s = await status(dir)
    const once = await rpd(['top', '--once', '--state-dir', dir])
    expect(once.exitCode, once.stderr).toBe(0)
    expect(once.stdout).not.toContain('\x1b')
    const lines = once.stdout.split('\n')
    expect(lines[0]).toMatch(new RegExp(`^rpd top {2}running {2}pid ${s.pid} .* 1 group {2}2 workers$`))
    expect(lines.some((l) => /^> foo\s+2\/2\s+fixed/.test(l))).toBe(true)
    for (const worker of s.workers)
      expect(lines.some((l) => new RegExp(`^\\s+${worker.pid}\\s+running .*\\d`).test(l))).toBe(true)
  })

  it('says the pool is not running when none runs', async () => {
    const once = await rpd(['top', '--once', '--state-dir', newStateDir()])
    expect(once.exitCode).toBe(0)
    expect(once.stdout.split('\n')[0]).toMatch(/^rpd top {2}not running/)
  })
})
