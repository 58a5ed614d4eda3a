/* eslint-disable no-control-regex -- the tests look for escape sequences in what rpd wrote */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
// The built package, as a user imports it (npm test builds first).
import { Pool, type PoolProgress } from '../dist/index.js'
import { BIN, ROOT, cleanupStates, fixture, newStateDir, rpd, status, waitFor } from './helpers/cli.js'
import { TmuxPane } from './helpers/tmux.js'

const IDLE = fixture('idle-worker.sh')
const COLOUR = /\x1b\[[0-9;]*m/
const LIVE_START = /^\d+\/8 started$/

const panes: TmuxPane[] = []
const temporary: string[] = []
afterEach(async () => {
  panes.splice(0).forEach((pane) => pane.close())
  await cleanupStates()
  temporary.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }))
})

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpd-progress-'))
  temporary.push(dir)
  return dir
}

// Runs an rpd command line in a real terminal, recording every byte it writes; it starts on Enter.
function runInTerminal(
  args: string,
  env: Record<string, string> = {},
): { pane: TmuxPane; raw: () => string } {
  const pane = new TmuxPane()
  panes.push(pane)
  const file = path.join(tempDir(), 'raw')
  fs.writeFileSync(file, '')
  pane.open(`read _; '${process.execPath}' '${BIN}' ${args}`, { columns: 160, rows: 50, cwd: ROOT, env })
  pane.record(file)
  pane.keys('Enter')
  return { pane, raw: () => fs.readFileSync(file, 'utf8') }
}

const exited = (screen: string[]) =>
  screen.some((line) => /^\[exited \d+\]$/.test(line)) ? screen : undefined

describe('progress on a terminal', () => {
  it('start draws a live count, in colour, that the final lines replace', async () => {
    const dir = newStateDir()
    const { pane, raw } = runInTerminal(`start foo=8 --command '${IDLE}' --state-dir '${dir}'`)
    const screen = await pane.until(exited, 'start to finish', 30_000)
    expect(screen).toContain('[exited 0]')
    // The live line was drawn in place (\r, text, clear to the end of the line), with its count in bold...
    expect(raw()).toMatch(/\r\x1b\[1m\d\/8\x1b\[0m started\x1b\[K/)
    // ...and nothing of it is left: the screen ends with the status, every worker running.
    expect(screen.some((line) => LIVE_START.test(line))).toBe(false)
    expect(screen.filter((line) => /\(foo, running\)/.test(line))).toHaveLength(8)
    expect((await status(dir)).workers.filter((w) => w.state === 'running')).toHaveLength(8)
  })

  it('stop shows the workers still busy, then only its final line', async () => {
    const dir = newStateDir()
    const flags = tempDir()
    const command = `BUSY_DIR=${flags} node ${fixture('finishing-worker.mjs')} ${'.'.repeat(100)}`
    expect((await rpd(['start', 'foo=3', '--command', command, '--state-dir', dir])).exitCode).toBe(0)
    const busy = (await status(dir)).workers.slice(0, 2).map((w) => w.pid)
    for (const pid of busy) fs.writeFileSync(path.join(flags, `busy-${pid}`), '')
    const title = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    await waitFor(() => busy.every((pid) => title(pid).includes('Processing foo')), 'the busy titles')

    const { pane } = runInTerminal(`stop --state-dir '${dir}'`)
    await pane.until(
      (screen) => screen.at(-1) === 'stopping 2 … waiting for 2 busy',
      'the live line to show the 2 busy workers',
    )
    fs.rmSync(path.join(flags, `busy-${busy[0]}`))
    await pane.until((screen) => screen.at(-1) === 'stopping 1 … waiting for 1 busy', 'one busy worker left')
    fs.rmSync(path.join(flags, `busy-${busy[1]}`))
    const screen = await pane.until(exited, 'stop to finish', 30_000)
    expect(screen.slice(-2)).toEqual(['stopped', '[exited 0]'])
    expect(screen.some((line) => line.startsWith('stopping '))).toBe(false)
    expect(screen.some((line) => line.includes('QUIT: graceful shutdown'))).toBe(true)
  })

  it('has no colour with NO_COLOR, on the screen or in what it wrote', async () => {
    const dir = newStateDir()
    const { pane, raw } = runInTerminal(`start foo=8 --command '${IDLE}' --state-dir '${dir}'`, {
      NO_COLOR: '1',
    })
    await pane.until(exited, 'start to finish', 30_000)
    expect(raw()).toMatch(/\r\d\/8 started\x1b\[K/)
    expect(raw()).not.toMatch(COLOUR)
    expect(pane.styledScreen()).not.toMatch(COLOUR)
  })
})

describe('progress elsewhere', () => {
  it('not on a terminal, start, scale, restart and stop print their plain lines only', async () => {
    const dir = newStateDir()
    const outputs = [
      await rpd(['start', 'foo=2', '--command', IDLE, '--state-dir', dir]),
      await rpd(['scale', 'foo=3', '--state-dir', dir]),
      await rpd(['restart', '--state-dir', dir]),
      await rpd(['stop', '--state-dir', dir]),
    ]
    for (const output of outputs) {
      expect(output.exitCode, output.stderr).toBe(0)
      expect(output.stdout).not.toMatch(/[\r\x1b]/)
      expect(output.stdout).not.toMatch(/\d+\/\d+ (started|replaced)|waiting for \d+ busy/)
    }
    expect(outputs[1].stdout.split('\n').at(-1)).toBe('applied generation 2: foo=3')
    expect(outputs[2].stdout.split('\n').at(-1)).toBe('restarted')
    expect(outputs[3].stdout.split('\n').at(-1)).toBe('stopped')
  })

  it('a library caller gets the progress through onProgress, and the lines through onLine', async () => {
    const dir = newStateDir()
    const reports: PoolProgress[] = []
    const lines: string[] = []
    const pool = new Pool({
      stateDir: dir,
      onLine: (line) => lines.push(line),
      onProgress: (p) => reports.push(p),
    })
    await pool.start({ formation: { foo: 3 }, command: IDLE })
    expect(reports.length).toBeGreaterThan(0)
    expect(reports.at(-1)).toEqual({ action: 'start', started: 3, total: 3, stopping: 0, busy: 0 })
    expect(reports.every((p) => p.started <= p.total)).toBe(true)
    expect(lines.some((line) => line.includes('idle worker for foo'))).toBe(true)
    reports.length = 0
    await pool.restart(['foo'])
    expect(reports.some((p) => p.action === 'restart' && p.total === 3)).toBe(true)
    reports.length = 0
    await pool.stop()
    expect(reports.length).toBeGreaterThan(0)
    expect(reports.every((p) => p.action === 'stop')).toBe(true)
  })
})
