import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  BIN,
  ROOT,
  alive,
  childrenOf,
  cleanupStates,
  fixture,
  newStateDir,
  rpd,
  status,
  waitFor,
} from './helpers/cli.js'

const EXITED = '[rpd shell exited with status]'

// A real terminal: a private tmux server per test (its own socket), so no other tmux session is touched and
// killing it ends every shell the test opened.
class Terminal {
  private readonly base = path.join(
    os.tmpdir(),
    `rpdshell-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  )
  private readonly socket = `${this.base}.sock`
  private readonly conf = `${this.base}.conf`

  open(args: readonly string[], env: Record<string, string>): void {
    // The pane stays after the shell exits, so its last words (Bye!) and exit status can be read.
    fs.writeFileSync(this.conf, 'set -g remain-on-exit on\nset -g history-limit 5000\n')
    const vars = Object.entries({ DEBUG: '', NO_START: '', WORKERS: '', ...env }).flatMap(([k, v]) => [
      '-e',
      `${k}=${v}`,
    ])
    // The exit status is echoed after the shell: tmux does not always reap a pane's process promptly.
    const command = `${[process.execPath, BIN, ...args].map((word) => `'${word}'`).join(' ')}; echo "${EXITED} $?"`
    this.tmux(
      '-f',
      this.conf,
      'new-session',
      '-d',
      '-s',
      'shell',
      '-x',
      '200',
      '-y',
      '50',
      '-c',
      ROOT,
      ...vars,
      command,
    )
  }

  // Ends the terminal and waits until the shells in it are gone: one still exiting may write to its state
  // directory (history, pool.yml) while the test cleans that up. A pool the shell left running is not waited for.
  async close(): Promise<void> {
    const shells = this.shellPids()
    try {
      this.tmux('kill-server')
    } catch {
      // already gone
    }
    try {
      await waitFor(() => shells.every((pid) => !alive(pid)), 'the shells to exit', 5_000)
    } catch {
      for (const pid of shells.filter(alive)) process.kill(pid, 'SIGKILL')
    }
    fs.rmSync(this.conf, { force: true })
    fs.rmSync(this.socket, { force: true })
  }

  // The pane's process and those of its descendants that run rpd's CLI (the shell, not a master or worker).
  private shellPids(): number[] {
    let pane: number
    try {
      pane = Number(this.tmux('list-panes', '-t', 'shell', '-F', '#{pane_pid}').trim())
    } catch {
      return []
    }
    const all = [pane]
    for (let i = 0; i < all.length; i++) all.push(...childrenOf(all[i]))
    return all.filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(BIN)
      } catch {
        return false
      }
    })
  }

  // What the user sees, scrollback included; wrapped lines joined, trailing blanks dropped.
  lines(): string[] {
    const text = this.tmux('capture-pane', '-p', '-J', '-S', '-5000', '-t', 'shell')
    // tmux's own note under a pane whose program has exited is not the shell's output.
    const lines = text
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => !line.startsWith('Pane is dead') && !line.startsWith(EXITED))
    while (lines.length && lines[lines.length - 1] === '') lines.pop()
    return lines
  }

  // Waits for something on the screen; on timeout the error shows the screen's last lines.
  async until<T>(fn: () => T, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
    try {
      return await waitFor(fn, what, timeoutMs)
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- screen ---\n${this.lines().slice(-15).join('\n')}`)
    }
  }

  atPrompt(): boolean {
    return this.lines().at(-1) === '>>'
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'shell', ...keys)
  }

  text(text: string): void {
    this.tmux('send-keys', '-t', 'shell', '-l', '--', text)
  }

  // Types a command at the prompt without waiting for it to finish (log.tail runs until ^C).
  async type(command: string): Promise<void> {
    await this.until(() => this.atPrompt(), 'the prompt')
    this.text(command)
    this.keys('Enter')
    await this.until(() => this.lines().includes(`>> ${command}`), `${command} to be typed`)
  }

  // Types a command and returns what it printed, once the next prompt shows.
  async run(command: string, timeoutMs = 30_000): Promise<string[]> {
    await this.until(() => this.atPrompt(), 'the prompt')
    const before = this.lines().lastIndexOf(`>> ${command}`)
    this.text(command)
    this.keys('Enter')
    return this.until(
      () => {
        const lines = this.lines()
        const at = lines.lastIndexOf(`>> ${command}`)
        return at > before && at < lines.length - 1 && lines.at(-1) === '>>'
          ? lines.slice(at + 1, -1)
          : undefined
      },
      `the output of ${command}`,
      timeoutMs,
    )
  }

  // The shell's exit status once it has exited, else undefined.
  exitStatus(): number | undefined {
    const line = this.tmux('capture-pane', '-p', '-J', '-S', '-5000', '-t', 'shell')
      .split('\n')
      .find((l) => l.startsWith(EXITED))
    return line === undefined ? undefined : Number(line.slice(EXITED.length))
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  }
}

const pidsOf = (workers: { pid: number; queues: string }[], group: string) =>
  workers
    .filter((w) => w.queues === group)
    .map((w) => w.pid)
    .sort()

let terminal: Terminal

afterEach(async () => {
  await terminal?.close()
  cleanupStates()
})

describe('rpd shell', () => {
  it("replays the seed README's session: WORKERS start, log.tail and ^C, config foo=1 bar=4, status, exit", async () => {
    const dir = newStateDir()
    terminal = new Terminal()
    terminal.open(['shell', '--state-dir', dir], {
      WORKERS: 'foo=2:bar=2:*=1',
      RPD_COMMAND: fixture('idle-worker.sh'),
    })
    await terminal.until(() => terminal.atPrompt(), 'the first prompt', 30_000)
    const before = await status(dir)
    expect(before.running).toBe(true)
    expect(before.formation).toEqual({ foo: 2, bar: 2, '*': 1 })
    expect(before.workers).toHaveLength(5)
    expect(terminal.lines().join('\n')).toContain(`Status: running, pid: ${before.pid}`)

    // log.tail follows the log like tail -f until ^C, which returns to the prompt, not out of the shell.
    await terminal.type('log.tail')
    const hup = await rpd(['kill', 'HUP', '--state-dir', dir])
    expect(hup.exitCode).toBe(0)
    await terminal.until(
      () =>
        terminal
          .lines()
          .slice(terminal.lines().lastIndexOf('>> log.tail'))
          .some((l) => l.includes('HUP')),
      'log.tail to show the HUP',
    )
    expect(terminal.atPrompt()).toBe(false)
    terminal.keys('C-c')
    expect(await terminal.run('pid')).toEqual([String(before.pid)])

    const changed = await terminal.run('config foo=1 bar=4')
    expect(changed.at(-1)).toMatch(/^applied generation \d+: foo=1:bar=4:\*=1$/)
    const after = await status(dir)
    expect(after.pid).toBe(before.pid)
    expect(after.formation).toEqual({ foo: 1, bar: 4, '*': 1 })
    expect(pidsOf(after.workers, '*')).toEqual(pidsOf(before.workers, '*'))
    expect(pidsOf(after.workers, 'foo')).toHaveLength(1)
    expect(pidsOf(before.workers, 'foo')).toContain(pidsOf(after.workers, 'foo')[0])
    expect(pidsOf(after.workers, 'bar')).toHaveLength(4)
    expect(pidsOf(after.workers, 'bar')).toEqual(expect.arrayContaining(pidsOf(before.workers, 'bar')))

    const shown = (await terminal.run('status')).join('\n')
    expect(shown).toContain(`Status: running, pid: ${before.pid}`)
    expect(shown).toMatch(/^ {2}foo: 1$/m)
    expect(shown).toMatch(/^ {2}bar: 4$/m)
    for (const worker of after.workers) expect(shown).toContain(` ${worker.pid} `)

    // exit stops the pool this shell started, showing its shutdown, then says goodbye.
    terminal.text('exit')
    terminal.keys('Enter')
    await terminal.until(() => terminal.exitStatus() !== undefined, 'the shell to exit', 30_000)
    expect(terminal.exitStatus()).toBe(0)
    const goodbye = terminal.lines().slice(terminal.lines().lastIndexOf('>> exit'))
    expect(goodbye).toContain('stopped')
    expect(goodbye.indexOf('Bye!')).toBeGreaterThan(goodbye.indexOf('stopped'))
    expect(alive(before.pid!)).toBe(false)
    for (const worker of after.workers) expect(alive(worker.pid)).toBe(false)
  })

  it('keeps going after an unknown command, bad arguments or ^C, and completes and remembers what was typed', async () => {
    const dir = newStateDir()
    terminal = new Terminal()
    const open = () =>
      terminal.open(['shell', '--state-dir', dir], {
        NO_START: '1',
        WORKERS: 'foo=1:bar=2',
        RPD_COMMAND: fixture('idle-worker.sh'),
      })
    open()
    await terminal.until(() => terminal.atPrompt(), 'the first prompt', 30_000)
    expect(terminal.lines().join('\n')).toContain('NO_START')
    // The first line says how to find the commands.
    expect(terminal.lines()[0]).toMatch(/^rpd shell on the pool in \S+: type help for the commands/)

    expect(await terminal.run('frobnicate')).toEqual([
      expect.stringMatching(/^rpd: unknown command "frobnicate".*help/),
    ])
    // A typo gets the command it is nearest to (a swap of two letters is one edit).
    expect(await terminal.run('stauts')).toEqual([
      'rpd: unknown command "stauts": did you mean status? type help for the list',
    ])
    expect(await terminal.run('config foo=x')).toEqual([expect.stringMatching(/^rpd: bad worker count "x"/)])
    expect(await terminal.run('kill!')).toEqual([expect.stringMatching(/^rpd: usage: kill! SIGNAL/)])
    expect(await terminal.run('status --jsn')).toEqual([
      expect.stringMatching(/^rpd: status has no option "--jsn"/),
    ])

    // ^C at the prompt drops the half-typed line, as a shell does; Tab completes a command's name.
    terminal.text('status')
    terminal.keys('C-c')
    await terminal.until(() => terminal.atPrompt(), 'a fresh prompt')
    terminal.text('pi')
    terminal.keys('Tab')
    await terminal.until(() => terminal.lines().at(-1) === '>> pid', 'the command name to complete')
    terminal.keys('Enter')
    await terminal.until(() => terminal.lines().at(-2) === 'not running', 'pid to answer')

    // Tab completes queue groups from the saved formation (WORKERS, saved because of NO_START).
    terminal.text('config fo')
    terminal.keys('Tab')
    await terminal.until(() => terminal.lines().at(-1) === '>> config foo=', 'the group to complete')
    terminal.text('3')
    terminal.keys('Enter')
    await terminal.until(
      () => terminal.lines().at(-2)?.startsWith('not running: saved foo=3:bar=2'),
      'config to save the change',
    )

    const help = await terminal.run('help config')
    expect(help).toContain('  config bar=4 foo=0')
    expect(help.join('\n')).toContain('[rpd scale]')

    terminal.keys('C-d')
    await terminal.until(() => terminal.exitStatus() !== undefined, 'the shell to exit on ^D')
    expect(terminal.lines().slice(-2)).toEqual(['>> exit', 'Bye!'])
    expect(fs.existsSync(path.join(dir, 'master.pid'))).toBe(false)
    expect(fs.readFileSync(path.join(dir, 'shell_history'), 'utf8')).toContain('config foo=3\n')

    // A new shell on the same pool recalls the last session's lines.
    await terminal.close()
    terminal = new Terminal()
    open()
    await terminal.until(() => terminal.atPrompt(), 'the prompt of the second shell', 30_000)
    terminal.keys('Up')
    await terminal.until(
      () => terminal.lines().at(-1) === '>> help config',
      'history to recall the last line',
    )
  })

  it('attaches to a running pool with NO_START=1 and leaves it running on ^D', async () => {
    const dir = newStateDir()
    const started = await rpd(['start', 'foo=1', '--command', fixture('idle-worker.sh'), '--state-dir', dir])
    expect(started.exitCode).toBe(0)
    const before = await status(dir)
    terminal = new Terminal()
    terminal.open(['shell', '--state-dir', dir], { NO_START: '1' })
    await terminal.until(() => terminal.atPrompt(), 'the first prompt', 30_000)
    expect(terminal.lines()).toContain(
      `attached to the running pool (master ${before.pid}): it keeps running when you exit`,
    )

    terminal.keys('C-d')
    await terminal.until(() => terminal.exitStatus() !== undefined, 'the shell to exit')
    expect(terminal.lines().at(-1)).toBe('Bye!')
    const after = await status(dir)
    expect(after.running).toBe(true)
    expect(after.pid).toBe(before.pid)
    expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid))
  })

  it('--keep leaves a pool the shell started running on exit', async () => {
    const dir = newStateDir()
    terminal = new Terminal()
    terminal.open(['shell', '--keep', '--state-dir', dir], {
      WORKERS: 'foo=1',
      RPD_COMMAND: fixture('idle-worker.sh'),
    })
    await terminal.until(() => terminal.atPrompt(), 'the first prompt', 30_000)
    const before = await status(dir)
    expect(before.workers).toHaveLength(1)

    terminal.text('exit')
    terminal.keys('Enter')
    await terminal.until(() => terminal.exitStatus() !== undefined, 'the shell to exit')
    expect(terminal.lines().at(-1)).toBe('Bye!')
    const after = await status(dir)
    expect(after.pid).toBe(before.pid)
    expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid))
  })

  it('a terminal that hangs up runs nothing half typed and leaves the pool it started running', async () => {
    const dir = newStateDir()
    terminal = new Terminal()
    terminal.open(['shell', '--state-dir', dir], { WORKERS: 'foo=1', RPD_COMMAND: fixture('idle-worker.sh') })
    await terminal.until(() => terminal.atPrompt(), 'the first prompt', 30_000)
    const before = await status(dir)
    terminal.text('stop')
    await terminal.until(() => terminal.lines().at(-1) === '>> stop', 'the half-typed line to show')
    // The connection drops (an SSH drop, a closed window): close() kills tmux and waits for the shell to go.
    await terminal.close()
    const after = await status(dir)
    expect(after.running).toBe(true)
    expect(after.pid).toBe(before.pid)
    expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid))
    expect(fs.readFileSync(path.join(dir, 'master.log'), 'utf8')).not.toMatch(/graceful shutdown/)
    const history = path.join(dir, 'shell_history')
    expect(fs.existsSync(history) ? fs.readFileSync(history, 'utf8') : '').not.toContain('stop')
  })
})
