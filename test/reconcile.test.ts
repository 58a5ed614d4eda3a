import { describe, expect, it } from 'vitest'
import { type ReconcileSlot, planReconcile } from '../src/master/reconcile.js'
import { busyFromTitle } from '../src/resque/process-title.js'

let clock = 0
function slot(group: string, extra: Partial<ReconcileSlot> = {}): ReconcileSlot & { name: string } {
  clock += 1
  return {
    name: `${group}#${clock}`,
    group,
    epoch: 0,
    state: 'running',
    retiring: false,
    startedAt: new Date(clock * 1000),
    ...extra,
  }
}
const names = (slots: { name: string }[]) => slots.map((s) => s.name).sort()

describe('planReconcile', () => {
  it('spawns what is missing and touches no other group', () => {
    const slots = [slot('foo'), slot('bar'), slot('bar')]
    const plan = planReconcile({ foo: 3, bar: 2 }, {}, slots)
    expect(plan.spawn).toEqual([
      { group: 'foo', epoch: 0 },
      { group: 'foo', epoch: 0 },
    ])
    expect(plan.stop).toEqual([])
    expect(plan.drop).toEqual([])
  })

  it('stops only the surplus of a shrinking group, youngest first', () => {
    const old = slot('foo')
    const mid = slot('foo')
    const young = slot('foo')
    const bar = slot('bar')
    const plan = planReconcile({ foo: 1, bar: 1 }, {}, [old, mid, young, bar])
    expect(names(plan.stop)).toEqual(names([young, mid]))
    expect(plan.spawn).toEqual([])
  })

  it('stops every worker of a removed group', () => {
    const slots = [slot('gone'), slot('gone'), slot('kept')]
    const plan = planReconcile({ kept: 1 }, {}, slots)
    expect(names(plan.stop)).toEqual(names(slots.slice(0, 2)))
  })

  it('drops a slot waiting in backoff before stopping a live worker', () => {
    const live = slot('foo')
    const waiting = slot('foo', { state: 'backoff', startedAt: new Date(0) })
    const plan = planReconcile({ foo: 1 }, {}, [live, waiting])
    expect(plan.drop).toEqual([waiting])
    expect(plan.stop).toEqual([])
  })

  it('stops idle workers first where busy/idle is known, then unknown ones, then busy ones', () => {
    const idleOld = slot('foo')
    const busyYoung = slot('foo')
    const busy = new Set([busyYoung])
    const plan = planReconcile({ foo: 1 }, {}, [idleOld, busyYoung], (s) => busy.has(s))
    expect(plan.stop).toEqual([idleOld])
    const blind = planReconcile({ foo: 1 }, {}, [idleOld, busyYoung])
    expect(blind.stop).toEqual([busyYoung])
    const unknown = slot('foo')
    const mixed = planReconcile({ foo: 1 }, {}, [idleOld, busyYoung, unknown], (s) =>
      s === unknown ? undefined : busy.has(s),
    )
    expect(mixed.stop).toEqual([idleOld, unknown])
  })

  it('asks about each slot at most once, and never about one waiting in backoff', () => {
    const slots = [slot('foo'), slot('foo'), slot('foo'), slot('foo', { state: 'backoff' }), slot('foo')]
    const asked: unknown[] = []
    planReconcile({ foo: 1 }, {}, slots, (s) => {
      asked.push(s)
      return false
    })
    expect(new Set(asked).size).toBe(asked.length)
    expect(asked).not.toContain(slots[3])
    // Where nothing is to stop, nobody is asked.
    asked.length = 0
    planReconcile({ foo: 5, bar: 1 }, {}, [...slots, slot('bar')], (s) => {
      asked.push(s)
      return false
    })
    expect(asked).toEqual([])
  })

  it('neither counts nor asks again a worker already stopping', () => {
    const stopping = slot('foo', { state: 'stopping', retiring: true })
    const running = slot('foo')
    const plan = planReconcile({ foo: 2 }, {}, [stopping, running])
    expect(plan.spawn).toEqual([{ group: 'foo', epoch: 0 }])
    expect(plan.stop).toEqual([])
  })

  it('rolls a restart: replacements first, old workers stop only as new ones run', () => {
    const a = slot('foo')
    const b = slot('foo')
    const first = planReconcile({ foo: 2 }, { foo: 1 }, [a, b])
    expect(first.spawn).toEqual([
      { group: 'foo', epoch: 1 },
      { group: 'foo', epoch: 1 },
    ])
    expect(first.stop).toEqual([])
    const starting = [
      slot('foo', { epoch: 1, state: 'starting' }),
      slot('foo', { epoch: 1, state: 'running' }),
    ]
    const second = planReconcile({ foo: 2 }, { foo: 1 }, [a, b, ...starting])
    expect(second.spawn).toEqual([])
    expect(second.stop).toHaveLength(1)
    const ready = starting.map((s) => ({ ...s, state: 'running' as const }))
    const third = planReconcile({ foo: 2 }, { foo: 1 }, [a, b, ...ready])
    expect(names(third.stop)).toEqual(names([a, b]))
  })

  it('plans nothing when the slots match the formation', () => {
    const plan = planReconcile({ foo: 2, '*': 1 }, {}, [slot('foo'), slot('foo'), slot('*')])
    expect(plan).toEqual({ spawn: [], stop: [], drop: [] })
  })
})

describe('busyFromTitle: what a Resque worker title says of the worker', () => {
  it.each([
    ['resque-2.7.0: Processing foo since 1700000000 [SlowJob]', true],
    ['resque-1.27.4: Forked 4242 at 1700000000', true],
    ['myapp: resque-2.6.0: Processing foo since 1700000000 [SlowJob]', true],
    ['resque-2.7.0: Waiting for foo,bar', false],
    ['resque-2.7.0: Paused', false],
    ['resque-2.7.0: Starting', false],
    ['resque: Starting', false],
    ['ruby /usr/local/bin/rake resque:work', undefined],
    ['bash idle-worker.sh', undefined],
    ['resque-2.7.0: Shutting down', undefined],
    ['', undefined],
  ])('%j → %s', (title, busy) => {
    expect(busyFromTitle(title)).toBe(busy)
  })
})
