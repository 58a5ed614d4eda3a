// The autoscaling policies Resque and Celery users run today, as pure step functions over the same samples
// rpd's policy reads (src/autoscale/policy.ts), for the side-by-side benchmark. Each is called once per
// sample (about one a second) with the clock passed in, and acts only on its own schedule. They model the
// documented behaviour with default settings, not the products' code.
import type { GroupSample } from './policy.js'

export interface Bounds {
  min: number
  max: number
}

// What a peer sees: rpd's sample, plus the head job's real wait for the one peer that scales on it.
export interface PeerSample extends GroupSample {
  headWaitSeconds?: number
}

export interface PeerStep<S> {
  state: S
  desired: number
}

// KEDA's Redis list scaler feeding a Kubernetes HPA, defaults throughout: the KEDA operator polls LLEN
// every 30 s and only activates (0 -> 1) or deactivates (-> 0 after a 300 s cooldown with an empty list);
// the HPA syncs every 15 s, reads LLEN afresh through KEDA's metrics server and asks for
// ceil(LLEN / listLength) with listLength 5, skipping changes within its 10 % tolerance. Scale-up is
// limited to max(double, +4 pods) per sync; scale-down takes the highest recommendation of the last 300 s.
// Pods are removed newest first whatever they are doing (a Resque worker killed by TERM drops its job).
export interface KedaSettings extends Bounds {
  listLength: number
  pollingSeconds: number
  syncSeconds: number
  stabilizationSeconds: number
  cooldownSeconds: number
  tolerance: number
}

export interface KedaState {
  replicas: number
  nextPollAt: number
  nextSyncAt: number
  activeAt: number | null
  recommendations: { at: number; count: number }[]
}

export function kedaSettings(bounds: Bounds): KedaSettings {
  return {
    ...bounds,
    listLength: 5,
    pollingSeconds: 30,
    syncSeconds: 15,
    stabilizationSeconds: 300,
    cooldownSeconds: 300,
    tolerance: 0.1,
  }
}

// `syncPhaseMs` shifts the HPA's sync grid against the operator's polls (and a workload's steps).
export function initialKedaState(replicas: number, now: number, syncPhaseMs = 0): KedaState {
  return { replicas, nextPollAt: now, nextSyncAt: now + syncPhaseMs, activeAt: null, recommendations: [] }
}

export function stepKeda(
  state: KedaState,
  sample: GroupSample,
  s: KedaSettings,
  now: number,
): PeerStep<KedaState> {
  let { replicas, nextPollAt, nextSyncAt, activeAt, recommendations } = state
  if (now >= nextPollAt) {
    nextPollAt = now + s.pollingSeconds * 1000
    if (sample.depth > 0) activeAt = now
    if (replicas === 0 && sample.depth > 0) replicas = Math.min(s.max, Math.max(1, s.min))
    else if (replicas > 0 && s.min === 0 && sample.depth === 0) {
      if (now - (activeAt ?? now) >= s.cooldownSeconds * 1000) replicas = 0
    }
  }
  if (now >= nextSyncAt) {
    nextSyncAt = now + s.syncSeconds * 1000
    if (replicas > 0) {
      const floor = Math.max(1, s.min)
      const ratio = sample.depth / replicas / s.listLength
      let rec = Math.abs(ratio - 1) <= s.tolerance ? replicas : Math.ceil(sample.depth / s.listLength)
      rec = Math.min(s.max, Math.max(floor, rec))
      recommendations = [
        ...recommendations.filter((r) => r.at > now - s.stabilizationSeconds * 1000),
        { at: now, count: rec },
      ]
      if (rec > replicas) replicas = Math.min(rec, Math.max(2 * replicas, replicas + 4))
      else replicas = Math.min(replicas, Math.max(...recommendations.map((r) => r.count)))
    }
  }
  return { state: { replicas, nextPollAt, nextSyncAt, activeAt, recommendations }, desired: replicas }
}

// Judoscale-style step scaling on queue latency: every 10 s, +1 worker when the latency is at or above
// upLatencySeconds and no scale-up happened in the last 3 min, -1 when it is at or below downLatencySeconds
// and nothing changed in the last 10 min. The latency is the head job's real wait, as Judoscale's adapters
// read it from an enqueue time that plain Resque jobs lack (the simulator knows it: an advantage rpd does
// not get). Dynos are stopped newest first, interrupting what they run.
export interface JudoscaleSettings extends Bounds {
  upLatencySeconds: number
  downLatencySeconds: number
  upCooldownSeconds: number
  downCooldownSeconds: number
  intervalSeconds: number
}

export interface JudoscaleState {
  count: number
  nextAt: number
  upAt: number | null
  changedAt: number | null
}

export function judoscaleSettings(bounds: Bounds, targetLatencySeconds: number): JudoscaleSettings {
  return {
    ...bounds,
    upLatencySeconds: targetLatencySeconds / 3,
    downLatencySeconds: 1,
    upCooldownSeconds: 180,
    downCooldownSeconds: 600,
    intervalSeconds: 10,
  }
}

export function initialJudoscaleState(count: number, now: number): JudoscaleState {
  return { count, nextAt: now, upAt: null, changedAt: null }
}

export function stepJudoscale(
  state: JudoscaleState,
  sample: PeerSample,
  s: JudoscaleSettings,
  now: number,
): PeerStep<JudoscaleState> {
  let { count, nextAt, upAt, changedAt } = state
  if (now >= nextAt) {
    nextAt = now + s.intervalSeconds * 1000
    const latency = sample.headWaitSeconds ?? 0
    const since = (t: number | null) => (t === null ? Infinity : (now - t) / 1000)
    if (latency >= s.upLatencySeconds && count < s.max && since(upAt) >= s.upCooldownSeconds) {
      count += 1
      upAt = changedAt = now
    } else if (
      latency <= s.downLatencySeconds &&
      count > s.min &&
      since(changedAt) >= s.downCooldownSeconds
    ) {
      count -= 1
      changedAt = now
    }
  }
  count = Math.min(s.max, Math.max(s.min, count))
  return { state: { count, nextAt, upAt, changedAt }, desired: count }
}

// Celery's `--autoscale=max,min`: once a second, grow the pool to the reserved tasks (running plus those
// prefetched from the broker, up to max × the prefetch multiplier of 4) capped at max; shrink to
// max(reserved, min) only when the last growth is more than keepalive (30 s) ago. Shrinking removes idle
// pool processes only. Prefetching itself (tasks pinned to one worker) is not modelled.
export interface CelerySettings extends Bounds {
  keepaliveSeconds: number
  prefetchMultiplier: number
}

export interface CeleryState {
  processes: number
  grewAt: number | null
}

export function celerySettings(bounds: Bounds): CelerySettings {
  return { ...bounds, keepaliveSeconds: 30, prefetchMultiplier: 4 }
}

export function initialCeleryState(processes: number): CeleryState {
  return { processes, grewAt: null }
}

export function stepCelery(
  state: CeleryState,
  sample: GroupSample,
  s: CelerySettings,
  now: number,
): PeerStep<CeleryState> {
  let { processes, grewAt } = state
  const reserved =
    sample.busy + Math.min(sample.depth, Math.max(0, s.max * s.prefetchMultiplier - sample.busy))
  const up = Math.min(reserved, s.max)
  const down = Math.max(reserved, s.min)
  if (up > processes) {
    processes = up
    grewAt = now
  } else if (down < processes && grewAt !== null && now - grewAt > s.keepaliveSeconds * 1000) {
    processes = down
  }
  return { state: { processes, grewAt }, desired: processes }
}
