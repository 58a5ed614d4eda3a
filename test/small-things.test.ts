import fs from 'node:fs'
import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import { firstPollDelay } from '../src/resque/worker.js'
import { BIN, cleanupStates, newStateDir, rpd, status } from './helpers/cli.js'

afterEach(cleanupStates)

describe('the small things a new user hits', () => {
  it('rpd -v and rpd version print the version', async () => {
    const version = JSON.parse(fs.readFileSync('package.json', 'utf8')).version as string
    for (const args of [['-v'], ['version'], ['--version']]) {
      const result = await rpd(args)
      expect(result.exitCode, args.join(' ')).toBe(0)
      expect(result.stdout).toContain(`resque-pool-dynamic/${version}`)
    }
  })

  it('rpd stauts suggests status, not start', async () => {
    const result = await rpd(['stauts'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/did you mean status\?/)
  })

  it('--interval is saved, shown by config and given to the workers as INTERVAL', async () => {
    const dir = newStateDir()
    const bad = await rpd([
      'start',
      'foo=1',
      '--command',
      'sleep 100',
      '--interval',
      'soon',
      '--state-dir',
      dir,
    ])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/--interval "soon"/)
    const started = await rpd([
      'start',
      'foo=1',
      '--command',
      'sleep 100',
      '--interval',
      '0.5',
      '--state-dir',
      dir,
    ])
    expect(started.exitCode, started.stderr).toBe(0)
    expect((await rpd(['config', '--state-dir', dir])).stdout).toMatch(/^interval: 0\.5$/m)
    const pid = (await status(dir)).workers[0].pid
    expect(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain('INTERVAL=0.5')
  })

  it('built-in workers started together do not poll in step: the first wait is jittered', () => {
    expect(firstPollDelay(5000, () => 0)).toBe(2500)
    expect(firstPollDelay(5000, () => 0.999999)).toBe(5000)
    const delays = new Set(Array.from({ length: 50 }, () => firstPollDelay(5000)))
    expect(delays.size).toBeGreaterThan(10)
    for (const delay of delays) expect(delay >= 2500 && delay <= 5000).toBe(true)
  })

  it('rpd logs -f into a reader that goes away (head -1) ends quietly with 0, not with a trace', async () => {
    const dir = newStateDir()
    const chatty = 'while :; do echo tick; sleep 0.005; done'
    expect((await rpd(['start', 'foo=1', '--command', chatty, '--state-dir', dir])).exitCode).toBe(0)
    const piped = await execa(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${BIN}" logs -f --state-dir "${dir}" | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
      ],
      { reject: false, timeout: 30_000 },
    )
    expect(piped.stderr).toBe('')
    expect(piped.stdout.trim()).toBe('0')
  })
})
