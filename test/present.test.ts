import { describe, expect, it } from 'vitest'
import type { PoolStatus } from '../src/client/pool-status.js'
import {
  describeExit,
  formatEnqueued,
  formatKilled,
  formatPaused,
  formatReloaded,
  formatRestarted,
  formatResumed,
  formatScaled,
  formatStarted,
  formatStopped,
} from '../src/present/outcomes.js'
import { formatStatus } from '../src/present/status-text.js'
import { editDistance, suggestNames } from '../src/present/suggest-names.js'
import type { WorkerStatus } from '../src/state/status-file.js'

describe('describeExit', () => {
  it.each([
    [{ code: 3, signal: null }, 'status 3'],
    [{ code: 0, signal: null }, 'status 0'],
    [{ code: null, signal: 'SIGKILL' }, 'signal KILL'],
    [{ code: null, signal: 'TERM' }, 'signal TERM'],
    [{ code: null, signal: null }, 'could not be spawned'],
    [null, 'could not be spawned'],
  ])('%j is %s', (exit, text) => {
    expect(describeExit(exit)).toBe(text)
  })
})

describe('outcome lines', () => {
  const result = (
    outcome: 'applied' | 'saved' | 'signalled' | 'unchanged',
    formation: Record<string, number> = { foo: 2, '*': 1 },
  ) => ({
    outcome,
    generation: 4,
    formation,
    bounds: {},
    manual: [] as string[],
  })

  it.each([
    ['applied', ['applied generation 4: foo=2:*=1']],
    ['signalled', ['sent generation 4: foo=2:*=1']],
    ['saved', ['not running: saved foo=2:*=1 for the next rpd start']],
    ['unchanged', ['no change: the formation is already foo=2:*=1']],
  ] as const)('scale %s', (outcome, lines) => {
    expect(formatScaled(result(outcome))).toEqual(lines)
  })

  it('scale shows ranges and says when an automatic group became manual', () => {
    const auto = { ...result('applied', { images: 0, mail: 2 }), bounds: { images: { min: 0, max: 8 } } }
    expect(formatScaled(auto)).toEqual(['applied generation 4: images=0..8:mail=2'])
    const manual = { ...result('applied', { images: 4 }), manual: ['images'] }
    expect(formatScaled(manual)).toEqual([
      'images is manual now, fixed at 4 (rpd scale images=MIN..MAX makes it automatic again)',
      'applied generation 4: images=4',
    ])
  })

  it('names an empty formation', () => {
    expect(formatScaled(result('applied', {}))).toEqual(['applied generation 4: (no workers)'])
    expect(formatReloaded(result('applied', {}))).toEqual(['reloaded generation 4: (no workers)'])
  })

  it('reload, restart, stop', () => {
    expect(formatReloaded(result('signalled'))).toEqual(['reloaded generation 4: foo=2:*=1'])
    expect(formatRestarted(result('applied'))).toEqual(['restarted'])
    expect(formatRestarted(result('signalled'))).toEqual(['restart requested'])
    expect(formatStopped('stopped')).toEqual(['stopped'])
    expect(formatStopped('not running')).toEqual(['not running'])
  })

  it('signals', () => {
    expect(formatKilled({ pid: 42, signal: 'SIGUSR1' })).toEqual(['sent USR1 to master 42'])
    expect(formatPaused({ pid: 42, signal: 'SIGUSR2' })).toEqual([
      'paused (sent USR2 through master 42); rpd resume goes on',
    ])
    expect(formatResumed({ pid: 42, signal: 'SIGCONT' })).toEqual(['resumed (sent CONT through master 42)'])
  })

  it('start: the pid without waiting, else a blank line and the status', () => {
    const started = { pid: 7, generation: 1, formation: { foo: 1 }, stateDir: '/s' }
    expect(formatStarted(started)).toEqual(['started master 7'])
    expect(formatStarted(started, ['Status: running'])).toEqual(['', 'Status: running'])
  })

  it('enqueue: one job or many, with the password hidden', () => {
    const where = { url: 'redis://:secret@h:6379/2', namespace: 'resque', length: 5 }
    expect(formatEnqueued({ ...where, pushed: 1 }, 'foo', 'Echo')[0]).toMatch(
      /^enqueued 1 Echo job on foo \(redis:\/\/.*h:6379\/2, namespace resque\); foo now holds 5$/,
    )
    expect(formatEnqueued({ ...where, pushed: 3 }, 'foo', 'Echo')[0]).toMatch(/^enqueued 3 Echo jobs on foo/)
    expect(formatEnqueued({ ...where, pushed: 1 }, 'foo', 'Echo')[0]).not.toContain('secret')
  })
})

describe('formatStatus', () => {
  const now = Date.parse('2026-01-01T00:00:10Z')
  const worker = (over: Partial<WorkerStatus>): WorkerStatus => ({
    slot: 1,
    pid: 101,
    startTime: '1',
    queues: 'foo',
    state: 'running',
    startedAt: '2026-01-01T00:00:00Z',
    restarts: 0,
    epoch: 0,
    lastExit: null,
    ...over,
  })
  const running = (workers: WorkerStatus[]): PoolStatus => ({
    running: true,
    pid: 100,
    stateDir: '/s',
    generation: 2,
    formation: { foo: 2 },
    workers,
    state: 'running',
    uptimeSeconds: 3725,
    leftovers: [],
    tree: {
      pid: 100,
      user: 'me',
      title: 'rpd master',
      children: [
        {
          pid: 101,
          user: 'me',
          title: 'worker a',
          children: [{ pid: 103, user: 'me', title: 'job', children: [] }],
        },
        { pid: 102, user: 'me', title: 'worker b', children: [] },
      ],
    },
  })

  it('draws the head, the formation and the tree with each worker annotated', () => {
    const lines = formatStatus(
      running([worker({}), worker({ slot: 2, pid: 102, restarts: 1, job: null, paused: true })]),
      now,
    )
    expect(lines).toEqual([
      'Status: running, pid: 100, uptime: 1h 02m 05s, generation: 2',
      'Configuration:',
      '  foo: 2',
      'Process tree:',
      '-+= 100 me rpd master',
      ' |-+- 101 me worker a  (foo, running)',
      ' |  \\--- 103 me job',
      ' \\--- 102 me worker b  (foo, running, restarts 1, idle, paused)',
    ])
  })

  it('says when and why a worker waits to respawn, by the clock given', () => {
    const waiting = worker({
      state: 'backoff',
      restarts: 3,
      nextAttemptAt: '2026-01-01T00:00:12.500Z',
      lastExit: { code: null, signal: 'SIGKILL', at: '2026-01-01T00:00:09Z' },
    })
    expect(formatStatus(running([waiting]), now).at(-1)).toBe(
      '  foo: waiting to respawn in 2.5 s (last exit: signal KILL, restarts 3)',
    )
  })

  it('not running, with what a dead master left', () => {
    const stopped: PoolStatus = {
      running: false,
      pid: null,
      stateDir: '/s',
      generation: 0,
      formation: {},
      workers: [],
      state: 'stopped',
      found: 'master.pid named 9, which is gone',
      leftovers: [worker({ pid: 55 })],
    }
    expect(formatStatus(stopped, now)).toEqual([
      'Status: not running (state directory /s)',
      '  master.pid named 9, which is gone',
      '  1 workers of a dead master are still running: 55 (foo)',
      '  rpd start stops them before it starts a new pool; rpd stop stops them now',
    ])
  })
})

describe('suggestNames', () => {
  const names = [
    'status',
    'start',
    'stop',
    'scale',
    'config',
    'config_path',
    'log.tail',
    'log.ff',
    'logs',
    'pid',
    'help',
  ]

  it.each([
    ['stauts', ['status']],
    ['satus', ['status']],
    ['strat', ['start']],
    ['stat', ['status']],
    ['sta', ['status', 'start']],
    ['conifg', ['config']],
    ['scael', ['scale']],
    ['log', ['log.tail', 'log.ff', 'logs']],
    ['pidd', ['pid']],
    ['frobnicate', []],
    ['xyz', []],
    ['', []],
  ])('%j -> %j', (typed, expected) => {
    expect(suggestNames(typed, names)).toEqual(expected)
  })

  it.each([
    ['status', 'status', 0],
    ['stauts', 'status', 1],
    ['stauts', 'start', 2],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['ab', 'ba', 1],
  ])('editDistance(%j, %j) = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d)
  })
})
