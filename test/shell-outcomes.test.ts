import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, cleanupStates, fixture, newStateDir, rpd, status } from './helpers/cli.js'

afterEach(cleanupStates)

const WORKER = fixture('idle-worker.sh')

// The lines a command prints, with the master's pid (the one thing two pools differ in) as PID.
const normalize = (text: string, pid: number | null) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (pid === null ? line : line.replaceAll(`master ${pid}`, 'master PID')))

async function cliSays(dir: string, words: string[]): Promise<string[]> {
  const pid = (await status(dir)).pid
  const result = await rpd([...words, '--state-dir', dir])
  expect(result.exitCode, result.stderr).toBe(0)
  return normalize(result.stdout, pid)
}

// The same command typed into `rpd shell` (through a pipe, on the running pool it attaches to).
async function shellSays(dir: string, line: string): Promise<string[]> {
  const pid = (await status(dir)).pid
  const result = await execa(process.execPath, [BIN, 'shell', '--state-dir', dir], {
    input: `${line}\n`,
    reject: false,
    env: { RPD_COMMAND: WORKER, NO_START: '1', WORKERS: '', DEBUG: '' },
    timeout: 60_000,
  })
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
  return normalize(String(result.stdout), pid)
}

describe('rpd shell and the CLI print one outcome per operation', () => {
  it('scale, reload, restart, kill, pause, resume, stop and a scale saved for later read the same', async () => {
    const cli = newStateDir()
    const shell = newStateDir()
    for (const dir of [cli, shell])
      expect((await rpd(['start', 'foo=1', '--command', WORKER, '--state-dir', dir])).exitCode).toBe(0)

    const steps: [string[], string][] = [
      [['scale', 'foo=2'], 'scale foo=2'],
      [['scale', 'foo=2'], 'scale foo=2'],
      [['reload'], 'reload'],
      [['restart', 'foo'], 'restart foo'],
      [['kill', 'HUP'], 'kill HUP'],
      [['pause'], 'pause'],
      [['resume'], 'resume'],
      [['config'], 'config'],
      [['stop'], 'stop'],
      [['scale', 'foo=3'], 'scale foo=3'],
      [['config'], 'config'],
    ]
    for (const [words, line] of steps) {
      const expected = await cliSays(cli, words)
      const shown = await shellSays(shell, line)
      // The outcome is the CLI's last line (config: all of them); the log lines that lead to it differ by pid.
      const outcome = words[0] === 'config' ? expected : expected.slice(-1)
      for (const text of outcome) expect(shown, `${line}: ${text}`).toContain(text)
    }
    // Two dozen CLI and shell runs, each a new Node process: slow on a loaded machine.
  }, 240_000)
})
