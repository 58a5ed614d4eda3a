import { describe, expect, it } from 'vitest'
import { composeMetricsSnapshot } from '../src/client/metrics-snapshot.js'
import { MasterMetrics } from '../src/master/metrics.js'
import type { StatusFile, WorkerStatus } from '../src/state/status-file.js'

function worker(
  queues: string,
  state: WorkerStatus['state'],
  extra: Partial<WorkerStatus> = {},
): WorkerStatus {
  return {
    slot: 1,
    pid: 100,
    startTime: '1',
    queues,
    state,
    startedAt: '2026-01-01T00:00:00.000Z',
    restarts: 0,
    epoch: 0,
    lastExit: null,
    ...extra,
  }
}

function statusOf(extra: Partial<StatusFile> & Record<string, unknown>): StatusFile {
  return {
    pid: 42,
    startTime: '1',
    app: 'app',
    cwd: '/',
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
    state: 'running',
    generation: 1,
    formation: {},
    paused: false,
    workers: [],
    ...extra,
  } as StatusFile
}

describe('composeMetricsSnapshot', () => {
  it('groups workers by their group, busy from the job they report', () => {
    const snapshot = composeMetricsSnapshot(
      statusOf({
        formation: { foo: 2, bar: 1 },
        workers: [
          worker('foo', 'running', { job: null }),
          worker('foo', 'running', { job: { class: 'X', queue: 'foo', since: '' } }),
          worker('bar', 'running'),
        ],
      }),
    )
    expect(snapshot.groups.map((g) => [g.name, g.desired, g.workers])).toEqual([
      [
        'foo',
        2,
        [
          { state: 'running', busy: false },
          { state: 'running', busy: true },
        ],
      ],
      ['bar', 1, [{ state: 'running', busy: null }]],
    ])
    expect(snapshot.resque).toBeUndefined()
    expect(snapshot.queues).toEqual([])
    expect(snapshot.master).toEqual({ pid: 42, startedAt: '2026-01-01T00:00:00.000Z' })
  })

  it('keeps a group being scaled away while its workers stop', () => {
    const snapshot = composeMetricsSnapshot(
      statusOf({ formation: { foo: 1 }, workers: [worker('old', 'stopping')] }),
    )
    expect(snapshot.groups.map((g) => [g.name, g.desired, g.workers.length])).toEqual([
      ['foo', 1, 0],
      ['old', 0, 1],
    ])
  })

  it('takes restarts from the counters, else sums the workers', () => {
    const workers = [worker('foo', 'running', { restarts: 2 }), worker('foo', 'backoff', { restarts: 3 })]
    expect(composeMetricsSnapshot(statusOf({ formation: { foo: 2 }, workers })).groups[0].restarts).toBe(5)
    const counters = { restarts: { foo: 9 }, scaleEvents: [], guardVetoes: [{ guard: 'memory', count: 2 }] }
    const snapshot = composeMetricsSnapshot(statusOf({ formation: { foo: 2 }, workers, counters }))
    expect(snapshot.groups[0].restarts).toBe(9)
    expect(snapshot.guardVetoes).toEqual([{ guard: 'memory', count: 2 }])
  })

  it('uses the autoscale entry for desired, bounds and a lone queue latency', () => {
    const snapshot = composeMetricsSnapshot(
      statusOf({
        formation: { images: 1, 'a,b': 1 },
        autoscale: {
          images: {
            min: 1,
            max: 8,
            desired: 4,
            targetLatency: 30,
            downAfter: 120,
            at: null,
            reason: 'latency',
            inputs: { depth: 0, busy: 0, rate: 0, jobSeconds: null, latency: 12.5 },
          },
          'a,b': {
            min: 0,
            max: 2,
            desired: 1,
            targetLatency: 30,
            downAfter: 120,
            at: null,
            reason: '',
            inputs: { depth: 0, busy: 0, rate: 0, jobSeconds: null, latency: 3 },
          },
        },
      }),
      { queues: { images: 7, a: 1, b: 0 }, workers: 2, working: 1, processed: 10, failed: 1 },
    )
    expect(snapshot.groups[0]).toMatchObject({ name: 'images', desired: 4, min: 1, max: 8 })
    expect(snapshot.queues).toEqual([
      { name: 'images', depth: 7, latencySeconds: 12.5 },
      { name: 'a', depth: 1, latencySeconds: null },
      { name: 'b', depth: 0, latencySeconds: null },
    ])
    expect(snapshot.resque).toEqual({ workers: 2, working: 1, processed: 10, failed: 1 })
  })
})

describe('MasterMetrics', () => {
  it('counts each change of a desired count once, with the reason noted for it', () => {
    const metrics = new MasterMetrics()
    metrics.noteFormation({ foo: 2 })
    metrics.noteFormation({ foo: 2 })
    metrics.noteFormation({ foo: 3 })
    metrics.noteScaleReason('foo', 'latency')
    metrics.noteFormation({ foo: 5, bar: 1 })
    metrics.noteFormation({ foo: 1 })
    expect(metrics.counters().scaleEvents).toEqual([
      { group: 'foo', direction: 'up', reason: 'manual', count: 1 },
      { group: 'foo', direction: 'up', reason: 'latency', count: 1 },
      { group: 'bar', direction: 'up', reason: 'manual', count: 1 },
      { group: 'foo', direction: 'down', reason: 'manual', count: 1 },
      { group: 'bar', direction: 'down', reason: 'manual', count: 1 },
    ])
  })

  it('counts restarts per group and vetoes per guard', () => {
    const metrics = new MasterMetrics()
    metrics.countRestart('foo')
    metrics.countRestart('foo')
    metrics.countVeto('memory')
    expect(metrics.counters()).toEqual({
      restarts: { foo: 2 },
      scaleEvents: [],
      guardVetoes: [{ guard: 'memory', count: 1 }],
    })
  })
})
