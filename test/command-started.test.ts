import { afterEach, describe, expect, it } from 'vitest'
import {
  REGISTRATION_POLL_MS,
  WORKER_SETTLE_MS,
  commandWorkerStarted,
  isResqueCommand,
  nextStartCheckAt,
  showsRegisteredTitle,
} from '../src/master/command-started.js'
import { cleanupStates, newStateDir, rpd, status } from './helpers/cli.js'

afterEach(cleanupStates)

describe('when a command worker counts as started', () => {
  it.each([
    ['bundle exec rake resque:work', true],
    ['bin/resque work', true],
    ['QUEUE=x rake environment resque:work', true],
    ['./idle-worker.sh', false],
    ['sidekiq', false],
    [undefined, false],
  ])('isResqueCommand(%s) is %s', (command, expected) => expect(isResqueCommand(command)).toBe(expected))

  it.each([
    ['resque-2.7.0: Waiting for foo', true],
    ['resque-1.27.4: Processing foo since 1700000000 [Job]', true],
    ['resque-2.7.0: Forked 12 at 1700000000', true],
    ['resque-2.7.0: Paused', true],
    ['resque: Starting', false],
    ['ruby /usr/bin/rake resque:work', false],
    ['', false],
  ])('showsRegisteredTitle(%s) is %s', (title, expected) =>
    expect(showsRegisteredTitle(title)).toBe(expected),
  )

  it('a Resque worker once its title shows it registered; any other once settled', () => {
    const rake = 'rake resque:work'
    expect(commandWorkerStarted(rake, 'ruby /usr/bin/rake resque:work', 60_000)).toBe(false)
    expect(commandWorkerStarted(rake, 'resque-2.7.0: Waiting for foo', WORKER_SETTLE_MS)).toBe(true)
    expect(commandWorkerStarted(rake, 'resque-2.7.0: Waiting for foo', WORKER_SETTLE_MS - 1)).toBe(false)
    expect(commandWorkerStarted('./w.sh', 'sh ./w.sh', WORKER_SETTLE_MS)).toBe(true)
    expect(commandWorkerStarted('./w.sh', 'sh ./w.sh', WORKER_SETTLE_MS - 1)).toBe(false)
  })

  it('looks again at the settle time, then every poll for a Resque worker still loading', () => {
    expect(nextStartCheckAt('rake resque:work', 1000, 1010)).toBe(1000 + WORKER_SETTLE_MS)
    expect(nextStartCheckAt('rake resque:work', 1000, 5000)).toBe(5000 + REGISTRATION_POLL_MS)
    expect(nextStartCheckAt('./w.sh', 1000, 5000)).toBe(1000 + WORKER_SETTLE_MS)
  })
})

describe('rpd start with a Resque command that cannot start', () => {
  it('exits non-zero, naming the worker and its last log lines', async () => {
    const dir = newStateDir()
    const result = await rpd(
      ['start', 'foo=1', '--command', 'rake -f /nonexistent/Rakefile resque:work', '--state-dir', dir],
      { env: { WORKERS: '' } },
    )
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(
      /^rpd: a worker for foo exited \(status 1\) while starting, last saying: .*No Rakefile found/,
    )
    expect((await status(dir)).workers.every((w) => w.state !== 'running')).toBe(true)
  })
})
