import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { waitFor } from './cli.js'

// A real terminal for one test: a private tmux server (its own socket) running one shell command in one pane.
export class TmuxPane {
  private readonly socket = path.join(
    os.tmpdir(),
    `rpdtmux-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`,
  )

  open(
    command: string,
    options: { columns?: number; rows?: number; cwd?: string; env?: Record<string, string> } = {},
  ): void {
    const vars = Object.entries({ DEBUG: '', ...options.env }).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    this.tmux(
      'new-session',
      '-d',
      '-s',
      'pane',
      '-x',
      String(options.columns ?? 120),
      '-y',
      String(options.rows ?? 30),
      ...(options.cwd ? ['-c', options.cwd] : []),
      ...vars,
      // The pane stays once the command ends, so what it left on the screen can be read.
      `${command}; echo "[exited $?]"; sleep 600`,
    )
  }

  // The visible screen, trailing blanks dropped.
  screen(): string[] {
    const lines = this.tmux('capture-pane', '-p', '-t', 'pane')
      .split('\n')
      .map((line) => line.trimEnd())
    while (lines.length && lines[lines.length - 1] === '') lines.pop()
    return lines
  }

  async until<T>(fn: (screen: string[]) => T, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
    try {
      return await waitFor(() => fn(this.screen()), what, timeoutMs)
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- screen ---\n${this.screen().join('\n')}`)
    }
  }

  // The visible screen with its colours and attributes as escape sequences.
  styledScreen(): string {
    return this.tmux('capture-pane', '-p', '-e', '-t', 'pane')
  }

  // From now on, every byte the pane's program writes is appended to file, as written.
  record(file: string): void {
    this.tmux('pipe-pane', '-t', 'pane', '-o', `cat >> '${file}'`)
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'pane', ...keys)
  }

  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-t', 'pane', '-x', String(columns), '-y', String(rows))
  }

  close(): void {
    try {
      this.tmux('kill-server')
    } catch {
      // already gone
    }
    fs.rmSync(this.socket, { force: true })
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8' })
  }
}
