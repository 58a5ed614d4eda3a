import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { BIN, cleanupStates, fixture, newStateDir, rpd } from './helpers/cli.js'
import { TmuxPane } from './helpers/tmux.js'

const IDLE = fixture('idle-worker.sh')
let home: string
let env: Record<string, string>

// rpd as a user installs it: on PATH, with its autocomplete cache in a private directory.
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'rpdcomplete-'))
  fs.mkdirSync(path.join(home, 'bin'))
  fs.symlinkSync(BIN, path.join(home, 'bin', 'rpd'))
  env = {
    RPD_CACHE_DIR: path.join(home, 'cache'),
    PATH: `${path.join(home, 'bin')}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    RPD_STATE_DIR: '',
  }
})
afterAll(() => fs.rmSync(home, { recursive: true, force: true }))
const panes: TmuxPane[] = []
afterEach(() => {
  panes.splice(0).forEach((pane) => pane.close())
  cleanupStates()
})

function hasShell(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

// What bash's completion offers for a command line, split into words as bash splits it (the word under the
// cursor last), run in a real bash that sourced the script the setup instructions point at.
function completeInBash(words: readonly string[]): string[] {
  const setup = execFileSync(process.execPath, [BIN, 'autocomplete', 'script', 'bash'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  })
  const script = `${setup}
COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
"$(complete -p rpd | sed -E 's/.*-F ([^ ]+) rpd$/\\1/')"
printf '%s\\n' "\${COMPREPLY[@]}"`
  const out = execFileSync('bash', ['-c', script, 'bash', ...words], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  })
  return out.split('\n').filter(Boolean).sort()
}

describe('shell completion', () => {
  it('bash completes commands, flags and the running pool’s groups', async () => {
    const generated = await rpd(['autocomplete', 'bash'], { env })
    expect(generated.exitCode, generated.stderr).toBe(0)
    expect(generated.stdout).toContain('rpd autocomplete script bash')
    const dir = newStateDir()
    const started = await rpd([
      'start',
      'images=1',
      'mail,urgent=1',
      '*=1',
      '--command',
      IDLE,
      '--state-dir',
      dir,
    ])
    expect(started.exitCode, started.stderr).toBe(0)

    expect(completeInBash(['rpd', 'st'])).toEqual(['start', 'status', 'stop'])
    expect(completeInBash(['rpd', ''])).toEqual(expect.arrayContaining(['scale', 'restart', 'autocomplete']))
    expect(completeInBash(['rpd', ''])).not.toContain('complete-groups')
    expect(completeInBash(['rpd', 'stop', '--'])).toEqual(['--force', '--state-dir', '--timeout'])
    // Flags after arguments, which the plugin alone does not complete.
    expect(completeInBash(['rpd', 'scale', 'images=2', '--no'])).toEqual(['--no-wait'])

    expect(completeInBash(['rpd', 'scale', '--state-dir', dir, ''])).toEqual(['images=', 'mail,urgent='])
    expect(completeInBash(['rpd', 'scale', '--state-dir', dir, 'ma'])).toEqual(['mail,urgent='])
    expect(completeInBash(['rpd', 'restart', '--state-dir', dir, ''])).toEqual(['images', 'mail,urgent'])
    expect(completeInBash(['rpd', 'tune', '--state-dir', dir, 'i'])).toEqual(['images'])
    expect(completeInBash(['rpd', 'autoscale', '--state-dir', '=', dir, ''])).toEqual([
      'images',
      'mail,urgent',
    ])
    expect(completeInBash(['rpd', 'logs', '--state-dir', dir, '--group', ''])).toEqual([
      'images',
      'mail,urgent',
      'master',
    ])
    expect(completeInBash(['rpd', 'kill', 'us'])).toEqual(['USR1', 'USR2'])
    // The pool is found as every command finds it: here through RPD_STATE_DIR.
    env.RPD_STATE_DIR = dir
    try {
      expect(completeInBash(['rpd', 'restart', 'im'])).toEqual(['images'])
    } finally {
      env.RPD_STATE_DIR = ''
    }
    // A group the pool gains is offered at once; no pool, no groups.
    expect((await rpd(['scale', 'video=1', '--state-dir', dir])).exitCode).toBe(0)
    expect(completeInBash(['rpd', 'restart', '--state-dir', dir, 'v'])).toEqual(['video'])
    expect(completeInBash(['rpd', 'restart', '--state-dir', path.join(home, 'none'), ''])).toEqual([])
  })

  it('complete-groups prints the groups, or the saved formation when no pool runs, and is hidden', async () => {
    const dir = newStateDir()
    expect((await rpd(['scale', 'b=2', 'a=1', '--state-dir', dir])).exitCode).toBe(0)
    const saved = await rpd(['complete-groups', '--state-dir', dir])
    expect(saved).toMatchObject({ exitCode: 0, stdout: 'a\nb', stderr: '' })
    const none = await rpd(['complete-groups', '--state-dir', path.join(home, 'none')])
    expect(none).toMatchObject({ exitCode: 0, stdout: '', stderr: '' })
    const help = await rpd(['--help'])
    expect(help.exitCode).toBe(0)
    expect(help.stdout).toContain('autocomplete')
    expect(help.stdout).not.toContain('complete-groups')
  })

  it.skipIf(!hasShell('zsh'))(
    'zsh: the script parses, and a real zsh completes commands, groups and signals',
    async () => {
      const generated = await rpd(['autocomplete', 'zsh'], { env })
      expect(generated.exitCode, generated.stderr).toBe(0)
      const functions = path.join(env.RPD_CACHE_DIR, 'autocomplete', 'functions', 'zsh')
      execFileSync('zsh', ['-n', path.join(functions, '_rpd')])
      const dir = newStateDir()
      const started = await rpd(['start', 'images=1', 'mail,urgent=1', '--command', IDLE, '--state-dir', dir])
      expect(started.exitCode, started.stderr).toBe(0)

      const pane = new TmuxPane()
      panes.push(pane)
      pane.open('zsh -f', { columns: 120, rows: 12 })
      pane.keys(
        `PATH=${env.PATH}; PS1='%% '; fpath=(${functions} $fpath); autoload -Uz compinit; compinit -u; clear`,
        'Enter',
      )
      await pane.until((screen) => screen.join('\n') === '%', 'the prompt')
      // Types a line, presses TAB, and gives back the screen once it shows what is expected.
      const complete = (line: string, expected: (screen: string[]) => boolean) => {
        pane.keys('C-u', 'C-l')
        pane.keys(line, 'Tab')
        return pane.until((screen) => expected(screen), `completion of ${JSON.stringify(line)}`)
      }
      await complete('rpd st', (s) => s.some((l) => l.startsWith('status  -- Show whether the pool runs')))
      await complete(`rpd restart --state-dir ${dir} `, (s) => /^images\s+mail,urgent$/.test(s[1] ?? ''))
      await complete(
        `rpd scale --state-dir ${dir} i`,
        (s) => s[0] === `% rpd scale --state-dir ${dir} images=`,
      )
      await complete(`rpd logs --state-dir ${dir} --group `, (s) =>
        /^images\s+mail,urgent\s+master$/.test(s[1] ?? ''),
      )
      await complete('rpd kill U', (s) => s[0] === '% rpd kill USR')
    },
  )
})
