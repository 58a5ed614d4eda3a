import { describe, expect, it } from 'vitest'
import {
  chooseShed,
  createGuardState,
  DEFAULT_GUARD_AFTER_SECONDS,
  evaluateGuards,
  evaluateRss,
  type GuardDecision,
  type GuardSettings,
  type GuardState,
  type HostReading,
  type RssAction,
  type RssSettings,
  type RssState,
} from '../src/autoscale/guards.js'

const GIB = 1024 ** 3
const MIB = 1024 ** 2
const T0 = 1_800_000_000_000

function reading(at: number, overrides: Partial<HostReading> = {}): HostReading {
  return { at, load1: 1, cores: 4, memAvailable: 8 * GIB, memTotal: 16 * GIB, ...overrides }
}

const LOAD: GuardSettings = { maxLoad: 1.5, guardAfterSeconds: 30 }
const MEMORY: GuardSettings = { minFreeMem: { bytes: 500 * MIB }, guardAfterSeconds: 30 }

// Feeds one reading per second from T0 for `seconds` seconds; returns every decision.
function run(
  settings: GuardSettings,
  readingAt: (second: number) => Partial<HostReading>,
  seconds: number,
  state: GuardState = createGuardState(),
): GuardDecision[] {
  const decisions: GuardDecision[] = []
  for (let second = 0; second < seconds; second++) {
    const now = T0 + second * 1000
    const decision = evaluateGuards(state, reading(now, readingAt(second)), settings, now)
    decisions.push(decision)
    state = decision.state
  }
  return decisions
}

const shedSeconds = (decisions: GuardDecision[]) =>
  decisions.flatMap((decision, second) => (decision.shed ? [second] : []))

describe('evaluateGuards', () => {
  it('defaults to 30 s before shedding', () => {
    expect(DEFAULT_GUARD_AFTER_SECONDS).toBe(30)
  })

  it('does nothing without guards', () => {
    const decision = evaluateGuards(
      createGuardState(),
      reading(T0, { load1: 99 }),
      { guardAfterSeconds: 30 },
      T0,
    )
    expect(decision).toMatchObject({ vetoUp: undefined, shed: undefined, reason: 'no host guards' })
  })

  it('vetoes nothing within limits and says what it saw', () => {
    const decision = evaluateGuards(
      createGuardState(),
      reading(T0, { load1: 6, memAvailable: 2 * GIB }),
      { ...LOAD, ...MEMORY },
      T0,
    )
    expect(decision.vetoUp).toBeUndefined()
    expect(decision.shed).toBeUndefined()
    expect(decision.reason).toBe('within limits: 2G available >= 500M, load 1.50 per core <= 1.5')
  })

  it('reads the load per core: the same load is fine on 8 cores and over on 2', () => {
    const over = evaluateGuards(createGuardState(), reading(T0, { load1: 4, cores: 2 }), LOAD, T0)
    expect(over.vetoUp).toBe('max-load')
    expect(over.reason).toBe(
      'max-load: load 2.00 per core (4.00 on 2 cores) > 1.5 limit: no scale-up (shed in 30s if it stays over)',
    )
    expect(
      evaluateGuards(createGuardState(), reading(T0, { load1: 4, cores: 8 }), LOAD, T0).vetoUp,
    ).toBeUndefined()
  })

  it('vetoes on the memory floor, in bytes or as a share of MemTotal', () => {
    const low = reading(T0, { memAvailable: 400 * MIB, memTotal: 16 * GIB })
    const bytes = evaluateGuards(createGuardState(), low, MEMORY, T0)
    expect(bytes.vetoUp).toBe('min-free-mem')
    expect(bytes.reason).toMatch(/^min-free-mem: 400M available < 500M floor: no scale-up/)
    const share: GuardSettings = { minFreeMem: { percent: 10 }, guardAfterSeconds: 30 }
    expect(
      evaluateGuards(createGuardState(), reading(T0, { memAvailable: 1.5 * GIB }), share, T0).vetoUp,
    ).toBe('min-free-mem')
    expect(
      evaluateGuards(createGuardState(), reading(T0, { memAvailable: 1.7 * GIB }), share, T0).vetoUp,
    ).toBe(undefined)
  })

  it('names the memory guard first when both are over', () => {
    const both = reading(T0, { load1: 40, memAvailable: 10 * MIB })
    expect(evaluateGuards(createGuardState(), both, { ...LOAD, ...MEMORY }, T0).vetoUp).toBe('min-free-mem')
  })

  it('sheds only once the load has stayed over for guardAfter, not before', () => {
    const decisions = run(LOAD, () => ({ load1: 8 }), 31)
    expect(decisions.every((decision) => decision.vetoUp === 'max-load')).toBe(true)
    expect(shedSeconds(decisions)).toEqual([30])
    expect(decisions[29]!.reason).toMatch(/shed in 1s if it stays over/)
    expect(decisions[30]!.reason).toBe(
      'max-load: load 2.00 per core (8.00 on 4 cores) > 1.5 limit for 30s: shed one worker',
    )
  })

  it('keeps shedding one worker per guardAfter while the load stays over', () => {
    expect(shedSeconds(run(LOAD, () => ({ load1: 8 }), 100))).toEqual([30, 60, 90])
    expect(shedSeconds(run({ ...LOAD, guardAfterSeconds: 10 }, () => ({ load1: 8 }), 35))).toEqual([
      10, 20, 30,
    ])
  })

  it('never leaves the load over the limit for longer than guardAfter without a shed', () => {
    // Load rises and falls in waves; every run of over-limit seconds longer than guardAfter contains a shed.
    const load = (second: number) => ({ load1: 6 + 3 * Math.sin(second / 17) + (second % 7 === 0 ? 1 : 0) })
    const decisions = run(LOAD, load, 600)
    let lastAct = -1
    for (let second = 0; second < decisions.length; second++) {
      const over = load(second).load1 / 4 > 1.5
      if (!over || decisions[second]!.shed) lastAct = second
      expect(second - lastAct, `second ${second}`).toBeLessThanOrEqual(30)
    }
  })

  it('restarts the clock when the load dips under the limit', () => {
    const dips = run(LOAD, (second) => ({ load1: second === 20 ? 5 : 8 }), 60)
    expect(dips[20]!.vetoUp).toBeUndefined()
    expect(shedSeconds(dips)).toEqual([51])
  })

  it('keeps vetoing scale-ups for guardAfter after a shed, then recovers', () => {
    // Over for 31 s (a shed at 30), then under.
    const decisions = run(LOAD, (second) => ({ load1: second <= 30 ? 8 : 2 }), 70)
    expect(shedSeconds(decisions)).toEqual([30])
    expect(decisions[31]!.vetoUp).toBe('max-load')
    expect(decisions[31]!.shed).toBeUndefined()
    expect(decisions[31]!.reason).toBe(
      'max-load: recovering, last shed 1s ago: no scale-up for 30s after a shed',
    )
    expect(decisions[59]!.vetoUp).toBe('max-load')
    expect(decisions[60]!.vetoUp).toBeUndefined()
    expect(decisions[60]!.reason).toMatch(/^within limits: load 0.50 per core <= 1.5$/)
  })

  it('does not shed twice in guardAfter when a second guard goes over', () => {
    const both = { ...LOAD, ...MEMORY }
    const decisions = run(
      both,
      (second) => ({ load1: 8, memAvailable: second >= 10 ? 100 * MIB : 8 * GIB }),
      75,
    )
    expect(shedSeconds(decisions)).toEqual([30, 60])
    expect(decisions[30]!.shed).toBe('max-load')
    expect(decisions[60]!.shed).toBe('min-free-mem')
  })

  it('pauses without a reading or with a stale one, keeping its clock', () => {
    const state = run(LOAD, () => ({ load1: 8 }), 20).at(-1)!.state
    const missing = evaluateGuards(state, undefined, LOAD, T0 + 25_000)
    expect(missing).toMatchObject({ vetoUp: undefined, shed: undefined, state })
    expect(missing.reason).toBe('host readings unavailable: guards paused')
    const stale = evaluateGuards(state, reading(T0, { load1: 8 }), LOAD, T0 + 25_000)
    expect(stale.vetoUp).toBeUndefined()
    const back = evaluateGuards(state, reading(T0 + 30_000, { load1: 8 }), LOAD, T0 + 30_000)
    expect(back.shed).toBe('max-load')
  })

  it('does not change the state it is given', () => {
    const state = createGuardState()
    evaluateGuards(state, reading(T0, { load1: 80 }), LOAD, T0)
    expect(state).toEqual({ overSince: {} })
  })
})

describe('chooseShed', () => {
  it('takes an idle worker first', () => {
    expect(
      chooseShed([
        { name: 'a', min: 0, current: 5, idle: 0 },
        { name: 'b', min: 0, current: 2, idle: 1 },
      ]),
    ).toBe('b')
  })

  it('prefers the group with the most idle workers', () => {
    expect(
      chooseShed([
        { name: 'a', min: 0, current: 4, idle: 1 },
        { name: 'b', min: 0, current: 4, idle: 3 },
      ]),
    ).toBe('b')
  })

  it('never goes below a minimum', () => {
    expect(
      chooseShed([
        { name: 'a', min: 4, current: 4, idle: 4 },
        { name: 'b', min: 1, current: 3, idle: 0 },
      ]),
    ).toBe('b')
    expect(chooseShed([{ name: 'a', min: 2, current: 2, idle: 2 }])).toBeUndefined()
    expect(chooseShed([])).toBeUndefined()
  })

  it('with none idle, takes from the group furthest above its minimum, then by name', () => {
    expect(
      chooseShed([
        { name: 'a', min: 0, current: 2, idle: 0 },
        { name: 'b', min: 1, current: 6, idle: 0 },
      ]),
    ).toBe('b')
    expect(
      chooseShed([
        { name: 'z', min: 0, current: 2, idle: 0 },
        { name: 'm', min: 0, current: 2, idle: 0 },
      ]),
    ).toBe('m')
  })
})

describe('evaluateRss', () => {
  // QUIT after 3 samples over; TERM no sooner than 10 s after QUIT; KILL 5 s after TERM.
  const SETTINGS: RssSettings = { maxRss: 500 * MIB, samples: 3, graceMs: 10_000, killAfterMs: 5_000 }

  // Feeds samples (pid -> MiB of its tree per tick, missing: gone), one tick per second of the injected
  // clock unless `at` gives each tick's second; returns the actions by tick.
  function feed(ticks: Record<number, number>[], settings = SETTINGS, at = (i: number) => i) {
    let state: RssState = {}
    return ticks.map((tick, i) => {
      const samples = Object.entries(tick).map(([pid, mib]) => ({ pid: Number(pid), bytes: mib * MIB }))
      const result = evaluateRss(state, samples, settings, T0 + at(i) * 1000)
      state = result.state
      return result.actions
    })
  }
  const steps = (actions: RssAction[][]) =>
    actions.flatMap((tick, i) => tick.map((action) => `${i}:${action.pid}:${action.step}`))
  const over = (seconds: number, mib = 700) => Array.from({ length: seconds }, () => ({ 10: mib }))

  it('sends QUIT after the configured number of consecutive samples over the limit', () => {
    const actions = feed(Array.from({ length: 3 }, () => ({ 10: 600, 11: 100 })))
    expect(steps(actions)).toEqual(['2:10:quit'])
    expect(actions[2]![0]!.reason).toBe(
      'max-rss: worker 10 at 600M > 500M for 3 samples: QUIT (stop after its job)',
    )
  })

  it('names the size of the whole tree and how it was read', () => {
    const sample = { pid: 10, bytes: 612 * MIB, processes: 2, kind: 'PSS' as const }
    let state: RssState = {}
    const reasons: string[] = []
    for (let i = 0; i < 3; i++) {
      const result = evaluateRss(state, [sample], SETTINGS, T0 + i * 1000)
      state = result.state
      reasons.push(...result.actions.map((action) => action.reason))
    }
    expect(reasons).toEqual([
      'max-rss: worker 10 and 1 descendant at 612M PSS > 500M for 3 samples: QUIT (stop after its job)',
    ])
  })

  it('counts only consecutive samples', () => {
    const rss = [600, 600, 400, 600, 600, 600].map((mib) => ({ 10: mib }))
    expect(steps(feed(rss))).toEqual(['5:10:quit'])
  })

  it('waits the grace after QUIT before TERM, and KILLs after the further period', () => {
    const actions = feed(over(30))
    expect(steps(actions)).toEqual(['2:10:quit', '12:10:term', '17:10:kill'])
    expect(actions[12]![0]!.reason).toBe(
      'max-rss: worker 10 still at 700M > 500M 10s after QUIT (grace 10s): TERM',
    )
    expect(actions[17]![0]!.reason).toBe(
      'max-rss: worker 10 at 700M (limit 500M) still alive 5s after TERM: KILL',
    )
  })

  it('times the grace by the clock, not by the number of samples', () => {
    // Samples 4 s apart after QUIT: TERM at the first sample 10 s after it, with the 3 samples over.
    const seconds = [0, 1, 2, 6, 10, 14, 18]
    expect(steps(feed(over(seconds.length), SETTINGS, (i) => seconds[i]!))).toEqual([
      '2:10:quit',
      '5:10:term',
    ])
  })

  it('lets a worker finishing its job within the grace exit without TERM', () => {
    // Over for 6 s after QUIT, then its job ends and the tree drops under the limit; then it exits.
    const rss = [...over(9), ...Array.from({ length: 20 }, () => ({ 10: 200 }))]
    expect(steps(feed(rss))).toEqual(['2:10:quit'])
  })

  it('after the grace, TERMs only a tree over the limit for the configured samples again', () => {
    // Under the limit when the grace ends (second 12), over again from second 20: TERM at 22.
    const rss = [...over(10), ...Array.from({ length: 10 }, () => ({ 10: 300 })), ...over(5)]
    expect(steps(feed(rss))).toEqual(['2:10:quit', '22:10:term'])
  })

  it('does not TERM for one spike after the grace', () => {
    const rss = [...over(3), ...Array.from({ length: 20 }, (_, i) => ({ 10: i % 3 === 0 ? 900 : 100 }))]
    expect(steps(feed(rss))).toEqual(['2:10:quit'])
  })

  it('KILLs a worker still alive after TERM even if its tree shrank', () => {
    const rss = [...over(13), ...Array.from({ length: 6 }, () => ({ 10: 100 }))]
    expect(steps(feed(rss))).toEqual(['2:10:quit', '12:10:term', '17:10:kill'])
  })

  it('with no grace, TERMs as soon as the tree has been over for the samples again', () => {
    const actions = feed(over(12), { ...SETTINGS, graceMs: 0, killAfterMs: 0 })
    expect(steps(actions)).toEqual(['2:10:quit', '5:10:term', '6:10:kill'])
  })

  it('sends nothing after KILL', () => {
    expect(steps(feed(over(60))).length).toBe(3)
  })

  it('forgets a worker that has exited, so a new one with its pid starts afresh', () => {
    const rss: Record<number, number>[] = [{ 10: 600 }, { 10: 600 }, {}, { 10: 600 }, { 10: 600 }]
    expect(steps(feed(rss))).toEqual([])
  })

  it('holds its state over a sample that could not be read', () => {
    let state: RssState = {}
    for (const bytes of [600 * MIB, 600 * MIB, undefined, 600 * MIB]) {
      const result = evaluateRss(state, [{ pid: 7, bytes }], SETTINGS, T0)
      state = result.state
      if (bytes === undefined) expect(result.actions).toEqual([])
      else if (state[7]!.step) expect(result.actions.map((action) => action.step)).toEqual(['quit'])
    }
    expect(state[7]!.step).toBe('quit')
  })

  it('treats samples below 1 as 1 and handles workers independently', () => {
    const actions = feed(
      [
        { 1: 600, 2: 100 },
        { 1: 600, 2: 900 },
      ],
      { ...SETTINGS, samples: 0, graceMs: 0 },
    )
    expect(steps(actions)).toEqual(['0:1:quit', '1:1:term', '1:2:quit'])
  })

  it('does not act at exactly the limit', () => {
    expect(steps(feed(over(5, 500)))).toEqual([])
  })
})
