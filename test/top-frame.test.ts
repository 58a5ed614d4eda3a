import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ENTER_ALT_SCREEN, HIDE_CURSOR, formatFrame } from '../src/present/terminal.js'
import { type TopView, renderTop } from '../src/present/top.js'
import { waitFor } from './helpers/cli.js'

const COLUMNS = 40
const ROWS = 10

// A private tmux server (its own socket) whose one pane prints the bytes of a file, as rpd top would.
class Pane {
  private readonly base = path.join(
    os.tmpdir(),
    `rpdtop-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  )
  private readonly socket = `${this.base}.sock`
  private readonly output = `${this.base}.out`

  open(bytes: string): void {
    fs.writeFileSync(this.output, bytes)
    this.tmux('new-session', '-d', '-s', 'top', '-x', String(COLUMNS), '-y', String(ROWS))
    this.tmux('set-option', '-t', 'top', 'status', 'off')
    this.tmux('respawn-pane', '-k', '-t', 'top', `cat '${this.output}'; exec sleep 600`)
  }

  screen(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'top')
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => line.trimEnd())
  }

  close(): void {
    try {
      this.tmux('kill-server')
    } catch {
      // already gone
    }
    fs.rmSync(this.output, { force: true })
    fs.rmSync(this.socket, { force: true })
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-u', '-S', this.socket, ...args], {
      encoding: 'utf8',
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
    })
  }
}

const panes: Pane[] = []
afterEach(() => panes.splice(0).forEach((pane) => pane.close()))

function open(bytes: string): Pane {
  const pane = new Pane()
  panes.push(pane)
  pane.open(bytes)
  return pane
}

function viewOf(names: string[], decisions: number): TopView {
  const now = Date.parse('2026-12-01T12:00:00Z')
  return {
    now,
    pool: { state: 'running', pid: 4242, uptimeSeconds: 61, paused: false },
    groups: names.map((name, i) => ({
      name,
      current: i + 1,
      desired: i + 1,
      jobsPerSecond: [1, 2, 3],
      latencySeconds: [1, 2, 3],
      workers: [
        {
          pid: 100 + i,
          state: 'busy',
          job: { class: 'Work', runningSeconds: 3 },
          rssBytes: 1 << 20,
          cpuPercent: 5,
        },
      ],
    })),
    queues: [{ name: 'q', depth: 1, latencySeconds: 1 }],
    decisions: Array.from({ length: decisions }, (_, i) => ({
      at: now - 1000 * i,
      kind: 'autoscale',
      text: `step ${i}`,
    })),
  }
}

describe('frames in a real terminal (tmux)', () => {
  it('a redraw replaces the previous frame completely, leaving nothing of it behind', async () => {
    const before = renderTop(
      viewOf(['a-long-group-name-filling-the-width', 'another-long-group-name', 'third-long'], 5),
      { columns: COLUMNS, rows: ROWS },
      { selected: 2 },
    )
    const after = renderTop(viewOf(['x'], 0), { columns: COLUMNS, rows: ROWS }, { selected: 0 })
    const pane = open(
      ENTER_ALT_SCREEN + HIDE_CURSOR + formatFrame(before, COLUMNS) + formatFrame(after, COLUMNS),
    )
    await waitFor(() => pane.screen().join('\n') === after.join('\n'), 'the second frame', 10_000).catch(
      () => {
        expect(pane.screen()).toEqual(after)
      },
    )
    expect(pane.screen()).toEqual(after)
  })

  it('a frame filling every cell, the bottom-right one too, neither scrolls nor loses a cell', async () => {
    const full = Array.from({ length: ROWS }, (_, row) => String(row).repeat(COLUMNS))
    const pane = open(formatFrame(['x'.repeat(COLUMNS)], COLUMNS) + formatFrame(full, COLUMNS))
    await waitFor(() => pane.screen().join('\n') === full.join('\n'), 'the full frame', 10_000).catch(() => {
      expect(pane.screen()).toEqual(full)
    })
    expect(pane.screen()).toEqual(full)
  })

  it('a shorter frame clears the rows below it, also when its last line fills the width', async () => {
    const full = Array.from({ length: ROWS }, (_, row) => String(row).repeat(COLUMNS))
    for (const last of ['short', 'y'.repeat(COLUMNS)]) {
      const shorter = ['one', 'z'.repeat(COLUMNS), last]
      const pane = open(formatFrame(full, COLUMNS) + formatFrame(shorter, COLUMNS))
      const expected = [...shorter, ...Array.from({ length: ROWS - shorter.length }, () => '')]
      await waitFor(
        () => pane.screen().join('\n') === expected.join('\n'),
        'the shorter frame',
        10_000,
      ).catch(() => {
        expect(pane.screen()).toEqual(expected)
      })
    }
  })
})
