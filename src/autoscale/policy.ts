// How many workers an automatic group should run, decided from one sample of the group's Redis counters per
// round. Pure: the caller passes the clock (`now`, ms) and the sample, and applies the returned count.
//
// Inputs, per sample (about one a second): Q = queued jobs (LLEN summed over the group's queues), the
// cumulative completions of its workers (resque:stat:processed:ID summed), how many are busy and running.
//
// - Arrival rate λ: arrivals in an interval are completions + ΔQ + Δbusy (a job that left the queue is
//   either done or running). λ is an exponential average of arrivals
//   per second (time constant RATE_TAU_SECONDS), except that an interval far outside Poisson noise of the
//   current λ (SURGE_SIGMAS standard deviations plus SURGE_MIN_JOBS) replaces λ at once: a step in load is
//   sized in the first decision that sees it, not after the average catches up. The next interval either
//   is back in line with the rate before the jump (a spike: λ returns to that rate) or is the first whole
//   interval at the new level (the step began part-way through the last one: λ becomes its rate).
//   A step up is sized for its count plus SURGE_HEADROOM_SIGMAS of Poisson noise: one interval's count is
//   a noisy estimate, and too few workers cost latency for the whole step, too many only until the down
//   window lets them go.
// - Service time S: busy-worker-seconds (busy counts integrated between samples) divided by completions,
//   both summed with exponential decay (SERVICE_TAU_SECONDS). Known once MIN_COMPLETIONS have completed;
//   kept from then on, so a group back from zero sizes itself with the S it measured before.
// - A falling completion counter (a worker left and took its counter with it), fewer workers than in the
//   last sample, a gap over MAX_GAP_SECONDS or a clock going back make an interval unusable: it updates
//   neither λ nor S, and the next interval starts from this sample. A gap also restarts the down window.
// - Queue latency (reported, and compared with the target in reasons): the larger of Q·S/c (the wait of a
//   job queued now behind Q others with c workers; off by the error in S, and by queueing noise when c is
//   small) and the age of the head job since it was first seen at the head (headId): a lower bound of
//   that job's wait, short by the time it spent behind others; identical payloads in a row make it longer.
// - Recommendation: with S known, ceil(S·(λ + Q/W)) (Little's law: the workers that serve arrivals and
//   drain the backlog within the target latency W). Before S is known, one worker per
//   COLD_JOBS_PER_WORKER queued. At least 1 whenever Q > 0, so a group at zero starts a worker on the
//   first sample that shows a job.
// - Up: a recommendation above the current count is applied at once, in one decision.
// - Down: each round also records a down-recommendation, the count that keeps utilization at or below
//   DOWN_UTILIZATION (ceil(S·λ/DOWN_UTILIZATION + S·Q/W)), at least the recommendation. The group
//   shrinks only to the highest down-recommendation of the last downAfter seconds, and only once samples
//   have covered that whole window (as Kubernetes' HPA stabilization window). The gap between the up and
//   the down rules keeps a steady load from flapping across a rounding boundary.
// - Zero: only when no sample of the window showed a queued job, a busy worker, a completion or an
//   arrival; otherwise at least 1.
// - Never below the busy workers on the way down: scale-down stops idle workers only. The bounds [min,
//   max] are applied last and win (a user lowering max below the busy count is obeyed).
// - No sample (Redis unreachable): hold the count, say so in the first held decision only, and restart
//   the down window when samples return, so an outage can never shrink the group or make it flap.
export interface AutoscaleSettings {
  min: number
  max: number
  targetLatencySeconds: number
  downAfterSeconds: number
}

export const DEFAULT_TARGET_LATENCY_SECONDS = 30
export const DEFAULT_DOWN_AFTER_SECONDS = 120

export interface GroupSample {
  at: number
  depth: number
  processed: number
  busy: number
  workers: number
  headId?: string
}

export interface AutoscaleInputs {
  depth: number
  busy: number
  rate: number
  jobSeconds: number | null
  latency: number | null
}

export interface Decision {
  desired: number
  previous: number
  reason: string
  inputs: AutoscaleInputs
  change: boolean
  // True when the decision deserves a log line: a change, the first held round, the first round back.
  announce: boolean
  held?: 'redis'
}

interface Peak {
  at: number
  count: number
}

export interface AutoscaleState {
  count: number | null
  last: GroupSample | null
  rate: number | null
  // The rate before the last interval's jump, until the next interval confirms the jump or undoes it.
  rateBefore: number | null
  busySeconds: number
  completions: number
  jobSeconds: number | null
  // Down-recommendations of the window, highest first (a monotonic queue: its head is the window's max).
  peaks: Peak[]
  coveredSince: number | null
  activeAt: number | null
  head: { id: string; since: number } | null
  heldSince: number | null
  inputs: AutoscaleInputs
}

const RATE_TAU_SECONDS = 30
const SERVICE_TAU_SECONDS = 300
const MIN_COMPLETIONS = 5
const COLD_JOBS_PER_WORKER = 10
const DOWN_UTILIZATION = 0.8
const MAX_GAP_SECONDS = 10
const SURGE_SIGMAS = 5
const SURGE_MIN_JOBS = 3
const SURGE_HEADROOM_SIGMAS = 2
// Keeps 2.0000000001 workers (floating-point dust) from rounding up to 3.
const CEIL_SLACK = 1e-9

export function defaultAutoscaleSettings(min: number, max: number): AutoscaleSettings {
  return {
    min,
    max,
    targetLatencySeconds: DEFAULT_TARGET_LATENCY_SECONDS,
    downAfterSeconds: DEFAULT_DOWN_AFTER_SECONDS,
  }
}

export function initialAutoscaleState(count: number | null = null): AutoscaleState {
  return {
    count,
    last: null,
    rate: null,
    rateBefore: null,
    busySeconds: 0,
    completions: 0,
    jobSeconds: null,
    peaks: [],
    coveredSince: null,
    activeAt: null,
    head: null,
    heldSince: null,
    inputs: { depth: 0, busy: 0, rate: 0, jobSeconds: null, latency: null },
  }
}

const clamp = (n: number, s: AutoscaleSettings) => Math.min(s.max, Math.max(s.min, n))
const ceilCount = (x: number) => Math.max(0, Math.ceil(x - CEIL_SLACK))

// The interval since the last sample, if it can be trusted for rates.
function measureInterval(last: GroupSample | null, sample: GroupSample) {
  if (!last) return null
  const seconds = (sample.at - last.at) / 1000
  if (seconds <= 0 || seconds > MAX_GAP_SECONDS) return null
  const completions = sample.processed - last.processed
  if (completions < 0 || sample.workers < last.workers) return null
  // Every job that arrived has completed, is still queued, or is running: Δbusy counts the last kind.
  const arrivals = Math.max(0, completions + sample.depth - last.depth + sample.busy - last.busy)
  return { seconds, completions, arrivals }
}

const isNoise = (arrivals: number, rate: number, seconds: number) =>
  Math.abs(arrivals - rate * seconds) <= SURGE_SIGMAS * Math.sqrt(rate * seconds) + SURGE_MIN_JOBS

// The new rate; `step` when this interval jumped to a new level, `before` the rate it jumped from.
function updateRate(rate: number | null, before: number | null, arrivals: number, seconds: number) {
  const instant = arrivals / seconds
  const ewma = (from: number) => from + (instant - from) * (1 - Math.exp(-seconds / RATE_TAU_SECONDS))
  if (rate === null) return { rate: instant, step: false, before: null }
  if (before !== null) {
    // Back in line with the rate before the jump: that was a spike, not a new level.
    if (isNoise(arrivals, before, seconds)) return { rate: ewma(before), step: false, before: null }
    // Still away from it: the jump was real, and this is the first whole interval at the new level.
    return { rate: instant, step: arrivals > before * seconds, before: null }
  }
  if (!isNoise(arrivals, rate, seconds))
    return { rate: instant, step: arrivals > rate * seconds, before: rate }
  return { rate: ewma(rate), step: false, before: null }
}

function pushPeak(peaks: Peak[], peak: Peak, windowMs: number): Peak[] {
  const kept = peaks.filter((p) => p.at > peak.at - windowMs)
  while (kept.length && kept[kept.length - 1].count <= peak.count) kept.pop()
  kept.push(peak)
  return kept
}

function estimateLatency(
  depth: number,
  jobSeconds: number | null,
  workers: number,
  head: AutoscaleState['head'],
  now: number,
): number | null {
  if (depth === 0) return 0
  // A head first seen this round says nothing; one seen before has waited at least that long.
  const headAge = head && head.since < now ? (now - head.since) / 1000 : null
  const drain = jobSeconds !== null && workers > 0 ? (depth * jobSeconds) / workers : null
  if (headAge === null) return drain
  if (drain === null) return headAge
  return Math.max(headAge, drain)
}

const oneDecimal = (x: number) => (x >= 100 ? Math.round(x).toString() : x.toFixed(1))
const jobTime = (s: number) => (s >= 10 ? Math.round(s).toString() : s.toPrecision(2))
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function describeLoad(inputs: AutoscaleInputs, targetSeconds: number): string {
  const parts = [
    `${inputs.depth} queued`,
    `${oneDecimal(inputs.rate)} jobs/s`,
    inputs.jobSeconds === null ? 'job time not yet known' : `${jobTime(inputs.jobSeconds)} s per job`,
  ]
  if (inputs.latency !== null && inputs.depth > 0) {
    const latency = Math.round(inputs.latency)
    parts.push(
      inputs.latency > targetSeconds
        ? `latency ${latency} s > ${targetSeconds} s target`
        : `latency ${latency} s`,
    )
  }
  return parts.join(', ')
}

function holdDecision(state: AutoscaleState, settings: AutoscaleSettings, now: number) {
  const count = state.count ?? settings.min
  const first = state.heldSince === null
  const decision: Decision = {
    desired: count,
    previous: count,
    reason: `Redis unreachable: holding ${plural(count, 'worker')} until it answers`,
    inputs: state.inputs,
    change: false,
    announce: first,
    held: 'redis',
  }
  const next: AutoscaleState = {
    ...state,
    count,
    heldSince: first ? now : state.heldSince,
    peaks: [],
    coveredSince: null,
    head: null,
  }
  return { state: next, decision }
}

export function decideAutoscale(
  state: AutoscaleState,
  sample: GroupSample | undefined,
  settings: AutoscaleSettings,
  now: number,
): { state: AutoscaleState; decision: Decision } {
  if (!sample) return holdDecision(state, settings, now)
  const W = settings.targetLatencySeconds
  const windowMs = settings.downAfterSeconds * 1000
  const previous = state.count ?? clamp(sample.workers, settings)
  const interval = measureInterval(state.last, sample)

  let { rate, rateBefore, busySeconds, completions, jobSeconds } = state
  // Rate to size for: on a step up, the interval's count plus SURGE_HEADROOM_SIGMAS of its Poisson noise.
  let sizingRate = rate ?? 0
  if (interval) {
    const updated = updateRate(rate, rateBefore, interval.arrivals, interval.seconds)
    rate = updated.rate
    rateBefore = updated.before
    sizingRate = updated.step
      ? (interval.arrivals + SURGE_HEADROOM_SIGMAS * Math.sqrt(interval.arrivals)) / interval.seconds
      : rate
    const decay = Math.exp(-interval.seconds / SERVICE_TAU_SECONDS)
    busySeconds = busySeconds * decay + ((state.last!.busy + sample.busy) / 2) * interval.seconds
    completions = completions * decay + interval.completions
    if (completions >= MIN_COMPLETIONS) jobSeconds = busySeconds / completions
  }
  const lambda = rate ?? 0
  const Q = sample.depth

  let head = state.head
  if (Q === 0 || sample.headId === undefined) head = null
  else if (!head || head.id !== sample.headId) head = { id: sample.headId, since: now }
  const latency = estimateLatency(Q, jobSeconds, Math.max(sample.workers, previous), head, now)

  const active =
    Q > 0 || sample.busy > 0 || (interval !== null && (interval.completions > 0 || interval.arrivals > 0))
  const activeAt = active ? now : (state.activeAt ?? now)
  // Samples restart the down window after an outage, a gap, or on the first sample.
  const resumed = state.heldSince !== null
  const gapMs = state.last ? sample.at - state.last.at : Infinity
  const continuous = !resumed && gapMs > 0 && gapMs <= MAX_GAP_SECONDS * 1000
  const coveredSince = continuous ? (state.coveredSince ?? now) : now
  const covered = now - coveredSince >= windowMs
  const idle = covered && now - activeAt >= windowMs

  let rec: number
  let downRec: number
  if (idle) {
    rec = 0
    downRec = 0
  } else {
    if (jobSeconds !== null) {
      rec = ceilCount(jobSeconds * (sizingRate + Q / W))
      downRec = ceilCount((jobSeconds * lambda) / DOWN_UTILIZATION + (jobSeconds * Q) / W)
    } else {
      rec = Math.ceil(Q / COLD_JOBS_PER_WORKER)
      downRec = rec
    }
    if (Q > 0) rec = Math.max(rec, 1)
    downRec = Math.max(downRec, rec, 1)
  }
  const peaks = pushPeak(resumed ? [] : state.peaks, { at: now, count: downRec }, windowMs)
  // An idle window already spans downAfter; the recommendations inside it (1 while active) do not count.
  const windowMax = idle ? 0 : peaks[0].count

  const inputs: AutoscaleInputs = { depth: Q, busy: sample.busy, rate: lambda, jobSeconds, latency }
  const load = describeLoad(inputs, W)
  const window = `${settings.downAfterSeconds} s`
  let desired = previous
  let reason: string
  if (rec > previous) {
    desired = rec
    reason =
      jobSeconds === null
        ? `${load}: 1 worker per ${COLD_JOBS_PER_WORKER} queued until jobs complete`
        : `${load}`
  } else if (covered && windowMax < previous) {
    desired = Math.max(windowMax, sample.busy)
    if (idle) reason = `queues empty and no worker busy for ${window}`
    else {
      reason = `at most ${plural(windowMax, 'worker')} needed for ${window}: ${load}`
      if (desired > windowMax) reason += `; ${sample.busy} busy kept`
    }
  } else {
    reason = `${plural(previous, 'worker')} kept: ${load}`
    if (rec < previous && !covered) reason += `; waiting for ${window} of samples before scaling down`
  }
  const bounded = clamp(desired, settings)
  if (bounded > desired)
    reason =
      previous < settings.min
        ? `raised to the minimum ${settings.min}: ${load}`
        : `${plural(bounded, 'worker')} kept, the minimum: ${load}`
  else if (bounded < desired) reason = `held at the maximum ${settings.max}: ${load}`
  desired = bounded
  if (resumed) {
    const away = Math.round((now - state.heldSince!) / 1000)
    reason = `Redis answering again after ${away} s; ${reason}`
  }

  const change = desired !== previous
  const next: AutoscaleState = {
    count: desired,
    last: sample,
    rate,
    rateBefore,
    busySeconds,
    completions,
    jobSeconds,
    peaks,
    coveredSince,
    activeAt,
    head,
    heldSince: null,
    inputs,
  }
  return {
    state: next,
    decision: { desired, previous, reason, inputs, change, announce: change || resumed },
  }
}

// One log line: `images 2 -> 6 (480 queued, 11.8 jobs/s, 0.41 s per job, latency 38 s > 30 s target)`.
export function formatDecision(group: string, decision: Decision): string {
  const counts = decision.change ? `${decision.previous} -> ${decision.desired}` : `${decision.desired}`
  return `${group} ${counts} (${decision.reason})`
}
