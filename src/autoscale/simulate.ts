// A seeded, deterministic discrete-event simulation of one Resque group under an autoscaler, in simulated
// time (an hour of load takes a few milliseconds of CPU). Jobs arrive as a Poisson process with a time-varying rate
// (thinning), wait in one FIFO queue, and take exponentially distributed service times; a worker takes a
// job the moment it is idle (no polling delay). A started worker boots (options.bootSeconds, 0.8 to 1 s)
// before it takes jobs. Every options.sampleSeconds (1 s) the group is sampled as rpd's master samples
// Redis (LLEN, summed resque:stat:processed of the live workers, busy and running counts, the head job's
// identity) and the autoscaler returns a count. A graceful stop (rpd, Celery) removes booting then idle workers and lets a
// busy one finish its job first; a kill (Kubernetes, Heroku) removes the newest workers and drops the job
// each busy one was running. A removed worker's completion counter leaves the sum, as in Resque.
// The same seed gives every autoscaler the same arrivals, service times and boot times.
import {
  type Bounds,
  type PeerSample,
  celerySettings,
  initialCeleryState,
  initialJudoscaleState,
  initialKedaState,
  judoscaleSettings,
  kedaSettings,
  stepCelery,
  stepJudoscale,
  stepKeda,
} from './peers.js'
import { decideAutoscale, initialAutoscaleState } from './policy.js'

export type StopMode = 'graceful' | 'kill-newest'

export interface Autoscaler {
  decide(sample: PeerSample, now: number): number
}

export interface AutoscalerKind {
  name: string
  label: string
  stop: StopMode
  create(options: SimOptions): Autoscaler
}

export interface Workload {
  name: string
  label: string
  seconds: number
  // Arrivals, completions and cost before this many seconds are warm-up, not measured.
  measureFrom: number
  jobSeconds: number
  peakRate: number
  rate(t: number): number
  burst?: { from: number; to: number; rate: number }
}

export interface SimOptions extends Bounds {
  targetLatencySeconds: number
  downAfterSeconds: number
  sampleSeconds: number
  bootSeconds: [number, number]
  initialWorkers: number
}

export interface SimResult {
  autoscaler: string
  workload: string
  jobs: number
  completed: number
  p95LatencySeconds: number
  p95BurstLatencySeconds: number | null
  // Seconds from the burst's start to the first extra worker ready for jobs, and to the decision for it.
  firstWorkerSeconds: number | null
  firstDecisionSeconds: number | null
  // The count the first scale-up of the burst asked for, over ceil(burst rate × mean job time).
  firstDecisionFraction: number | null
  // Seconds from the burst's start to the first decision asking for 90 % of that needed count.
  secondsToNeeded: number | null
  scaleEvents: number
  scaleEventsPerHour: number
  interrupted: number
  workerSeconds: number
  peakWorkers: number
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  min: 0,
  max: 40,
  targetLatencySeconds: 30,
  downAfterSeconds: 120,
  sampleSeconds: 1,
  bootSeconds: [0.8, 1.0],
  initialWorkers: 0,
}

const BASE_RATE = 10
const KEDA_SYNC_PHASE_MS = 7_000
const JOB_SECONDS = 0.2

export const WORKLOADS: Workload[] = [
  {
    name: 'burst',
    label: '10x step for 60 s (10 -> 100 jobs/s, 0.2 s jobs)',
    seconds: 1500,
    measureFrom: 300,
    jobSeconds: JOB_SECONDS,
    peakRate: BASE_RATE * 10,
    rate: (t) => (t >= 600 && t < 660 ? BASE_RATE * 10 : BASE_RATE),
    burst: { from: 600, to: 660, rate: BASE_RATE * 10 },
  },
  {
    name: 'sinusoid',
    label: 'sinusoid, 10 min period (2 to 18 jobs/s, 0.2 s jobs)',
    seconds: 3900,
    measureFrom: 300,
    jobSeconds: JOB_SECONDS,
    peakRate: BASE_RATE * 1.8,
    rate: (t) => BASE_RATE * (1 + 0.8 * Math.sin((2 * Math.PI * t) / 600)),
  },
  {
    name: 'steady',
    label: 'steady Poisson (12 jobs/s, 0.2 s jobs)',
    seconds: 4200,
    measureFrom: 600,
    jobSeconds: JOB_SECONDS,
    peakRate: 12,
    rate: () => 12,
  },
]

// mulberry32: small, fast and good enough for a simulation's random numbers (and the tests' seeded cases).
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const exponential = (random: () => number, mean: number) => -Math.log(1 - random()) * mean

interface Arrivals {
  times: number[]
  services: number[]
}

function generateArrivals(workload: Workload, seed: number): Arrivals {
  const random = seededRandom(seed * 2654435761 + 1)
  const service = seededRandom(seed * 2246822519 + 2)
  const times: number[] = []
  const services: number[] = []
  for (let t = exponential(random, 1 / workload.peakRate); t < workload.seconds;) {
    if (random() * workload.peakRate < workload.rate(t)) {
      times.push(t)
      services.push(exponential(service, workload.jobSeconds))
    }
    t += exponential(random, 1 / workload.peakRate)
  }
  return { times, services }
}

interface SimWorker {
  startedAt: number
  readyAt: number
  booting: boolean
  job: number
  doneAt: number
  processed: number
  stopping: boolean
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
}

export function simulate(
  kind: AutoscalerKind,
  workload: Workload,
  seed: number,
  overrides: Partial<SimOptions> = {},
): SimResult {
  return runSimulation(kind, workload, seed, generateArrivals(workload, seed), overrides)
}

function runSimulation(
  kind: AutoscalerKind,
  workload: Workload,
  seed: number,
  { times, services }: Arrivals,
  overrides: Partial<SimOptions>,
): SimResult {
  const options = { ...DEFAULT_SIM_OPTIONS, ...overrides }
  const autoscaler = kind.create(options)
  const bootRandom = seededRandom(seed * 3266489917 + 3)
  const [bootMin, bootMax] = options.bootSeconds
  const end = workload.seconds
  const from = workload.measureFrom
  const burst = workload.burst

  let workers: SimWorker[] = []
  let arrived = 0
  let started = 0
  let interrupted = 0
  let completed = 0
  let workerSeconds = 0
  let scaleEvents = 0
  let peakWorkers = 0
  let lastDesired = options.initialWorkers
  const latencies: number[] = []
  const burstLatencies: number[] = []
  let burstBase: number | null = null
  let firstDecisionAt: number | null = null
  let firstDecisionCount = 0
  let firstWorkerAt: number | null = null
  let neededAt: number | null = null
  const needed = burst ? Math.ceil(burst.rate * workload.jobSeconds) : 0

  const chargeWorker = (w: SimWorker, until: number) => {
    workerSeconds += Math.max(0, until - Math.max(w.startedAt, from))
  }
  const recordStart = (job: number, t: number) => {
    const a = times[job]
    if (a < from) return
    latencies.push(t - a)
    if (burst && a >= burst.from && a < burst.to) burstLatencies.push(t - a)
  }
  const startJob = (w: SimWorker, t: number) => {
    if (started >= arrived) return
    const job = started++
    w.job = job
    w.doneAt = t + services[job]
    recordStart(job, t)
  }
  const spawn = (t: number) => {
    const readyAt = t + bootMin + bootRandom() * (bootMax - bootMin)
    if (burstBase !== null && firstWorkerAt === null && t >= burst!.from) firstWorkerAt = readyAt
    workers.push({
      startedAt: t,
      readyAt,
      booting: true,
      job: -1,
      doneAt: Infinity,
      processed: 0,
      stopping: false,
    })
  }
  const remove = (w: SimWorker, t: number) => {
    chargeWorker(w, t)
    workers = workers.filter((x) => x !== w)
  }
  const stop = (count: number, t: number) => {
    const live = workers.filter((w) => !w.stopping)
    if (kind.stop === 'kill-newest') {
      const victims = [...live].sort((a, b) => b.startedAt - a.startedAt).slice(0, count)
      for (const w of victims) {
        if (w.job >= 0) interrupted += 1
        remove(w, t)
      }
      return
    }
    const booting = live.filter((w) => w.booting)
    const idle = live.filter((w) => !w.booting && w.job < 0)
    const busy = live.filter((w) => w.job >= 0)
    for (const w of [...booting, ...idle, ...busy].slice(0, count)) {
      if (w.job >= 0) w.stopping = true
      else remove(w, t)
    }
  }
  const sampleGroup = (t: number): PeerSample => {
    let processed = 0
    let busy = 0
    let running = 0
    for (const w of workers) {
      processed += w.processed
      if (w.job >= 0) busy += 1
      if (!w.stopping) running += 1
    }
    const depth = arrived - started
    return {
      at: Math.round(t * 1000),
      depth,
      processed,
      busy,
      workers: running,
      headId: depth > 0 ? `job-${started}` : undefined,
      headWaitSeconds: depth > 0 ? t - times[started] : undefined,
    }
  }

  for (let i = 0; i < options.initialWorkers; i++) spawn(0)
  let nextSample = options.sampleSeconds
  for (;;) {
    let next: SimWorker | null = null
    let nextWorkerAt = Infinity
    for (const w of workers) {
      const at = w.booting ? w.readyAt : w.doneAt
      if (at < nextWorkerAt) {
        nextWorkerAt = at
        next = w
      }
    }
    const nextArrival = arrived < times.length ? times[arrived] : Infinity
    const t = Math.min(nextWorkerAt, nextArrival, nextSample)
    if (t >= end) break
    if (next && t === nextWorkerAt) {
      if (next.job >= 0) {
        if (times[next.job] >= from) completed += 1
        next.job = -1
        next.doneAt = Infinity
        next.processed += 1
        if (next.stopping) remove(next, t)
        else startJob(next, t)
      } else {
        next.booting = false
        startJob(next, t)
      }
      continue
    }
    if (t === nextArrival) {
      arrived += 1
      const idle = workers.find((w) => !w.booting && w.job < 0 && !w.stopping)
      if (idle) startJob(idle, t)
      continue
    }
    nextSample += options.sampleSeconds
    if (burst && burstBase === null && t >= burst.from) burstBase = workers.filter((w) => !w.stopping).length
    const desired = Math.max(options.min, Math.min(options.max, autoscaler.decide(sampleGroup(t), t * 1000)))
    if (desired !== lastDesired && t >= from) scaleEvents += 1
    if (burstBase !== null && firstDecisionAt === null && desired > burstBase) {
      firstDecisionAt = t
      firstDecisionCount = desired
    }
    if (burstBase !== null && neededAt === null && desired >= 0.9 * needed) neededAt = t
    lastDesired = desired
    const live = workers.filter((w) => !w.stopping).length
    if (desired > live) for (let i = live; i < desired; i++) spawn(t)
    else if (desired < live) stop(live - desired, t)
    peakWorkers = Math.max(peakWorkers, workers.length)
  }
  for (const w of workers) chargeWorker(w, end)
  // Jobs still queued at the end count with the wait they have had so far.
  for (let job = started; job < times.length; job++) recordStart(job, end)

  const measured = times.filter((a) => a >= from).length
  const hours = (end - from) / 3600
  return {
    autoscaler: kind.name,
    workload: workload.name,
    jobs: measured,
    completed,
    p95LatencySeconds: percentile(latencies, 0.95),
    p95BurstLatencySeconds: burst ? percentile(burstLatencies, 0.95) : null,
    firstWorkerSeconds: burst && firstWorkerAt !== null ? firstWorkerAt - burst.from : null,
    firstDecisionSeconds: burst && firstDecisionAt !== null ? firstDecisionAt - burst.from : null,
    firstDecisionFraction:
      burst && firstDecisionAt !== null ? Math.min(1, firstDecisionCount / needed) : null,
    secondsToNeeded: burst && neededAt !== null ? neededAt - burst.from : null,
    scaleEvents,
    scaleEventsPerHour: scaleEvents / hours,
    interrupted,
    workerSeconds,
    peakWorkers,
  }
}

export const RPD: AutoscalerKind = {
  name: 'rpd',
  label: 'rpd (Little’s law, 2 min down window)',
  stop: 'graceful',
  create(o) {
    const settings = {
      min: o.min,
      max: o.max,
      targetLatencySeconds: o.targetLatencySeconds,
      downAfterSeconds: o.downAfterSeconds,
    }
    let state = initialAutoscaleState(o.initialWorkers)
    return {
      decide(sample, now) {
        const next = decideAutoscale(state, sample, settings, now)
        state = next.state
        return next.decision.desired
      },
    }
  },
}

export const KEDA: AutoscalerKind = {
  name: 'keda',
  label: 'KEDA Redis list scaler + HPA (listLength 5)',
  stop: 'kill-newest',
  create(o) {
    const settings = kedaSettings(o)
    // Syncs at 7 s past each 15 s mark: a step at a round time meets the HPA midway through its period.
    let state = initialKedaState(o.initialWorkers, 0, KEDA_SYNC_PHASE_MS)
    return {
      decide(sample, now) {
        const next = stepKeda(state, sample, settings, now)
        state = next.state
        return next.desired
      },
    }
  },
}

export const JUDOSCALE: AutoscalerKind = {
  name: 'judoscale',
  label: 'Judoscale-style (+1 / -1, 3 min up, 10 min down)',
  stop: 'kill-newest',
  create(o) {
    const settings = judoscaleSettings(o, o.targetLatencySeconds)
    let state = initialJudoscaleState(o.initialWorkers, 0)
    return {
      decide(sample, now) {
        const next = stepJudoscale(state, sample, settings, now)
        state = next.state
        return next.desired
      },
    }
  },
}

export const CELERY: AutoscalerKind = {
  name: 'celery',
  label: 'Celery --autoscale (reserved, 30 s keepalive)',
  stop: 'graceful',
  create(o) {
    const settings = celerySettings(o)
    let state = initialCeleryState(o.initialWorkers)
    return {
      decide(sample, now) {
        const next = stepCelery(state, sample, settings, now)
        state = next.state
        return next.desired
      },
    }
  },
}

export const AUTOSCALERS: AutoscalerKind[] = [RPD, KEDA, JUDOSCALE, CELERY]

export function compareAutoscalers(seed: number, overrides: Partial<SimOptions> = {}): SimResult[] {
  const rows: SimResult[] = []
  for (const workload of WORKLOADS) {
    const arrivals = generateArrivals(workload, seed)
    for (const kind of AUTOSCALERS) rows.push(runSimulation(kind, workload, seed, arrivals, overrides))
  }
  return rows
}

export interface TargetCheck {
  target: string
  value: string
  met: boolean
}

const secondsText = (v: number | null) => (v === null ? 'never' : `${v.toFixed(1)} s`)

// The targets for rpd, checked against one comparison's rows.
export function assessTargets(rows: SimResult[], targetLatencySeconds = 30): TargetCheck[] {
  const row = (autoscaler: string, workload: string) =>
    rows.find((r) => r.autoscaler === autoscaler && r.workload === workload)!
  const burst = row('rpd', 'burst')
  const steady = row('rpd', 'steady')
  const checks: TargetCheck[] = [
    {
      target: 'first extra worker <= 2 s after the burst starts',
      value: secondsText(burst.firstWorkerSeconds),
      met: burst.firstWorkerSeconds !== null && burst.firstWorkerSeconds <= 2,
    },
    {
      target: '>= 90 % of the needed capacity in the first decision',
      value: `${Math.round((burst.firstDecisionFraction ?? 0) * 100)} %`,
      met: (burst.firstDecisionFraction ?? 0) >= 0.9,
    },
    {
      target: `p95 queue latency during the burst <= ${1.5 * targetLatencySeconds} s`,
      value: secondsText(burst.p95BurstLatencySeconds),
      met: (burst.p95BurstLatencySeconds ?? Infinity) <= 1.5 * targetLatencySeconds,
    },
    {
      target: '<= 2 scale events per hour under steady load',
      value: steady.scaleEventsPerHour.toFixed(1),
      met: steady.scaleEventsPerHour <= 2,
    },
    {
      target: '0 busy jobs interrupted by scale-down',
      value: String(rows.filter((r) => r.autoscaler === 'rpd').reduce((n, r) => n + r.interrupted, 0)),
      met: rows.filter((r) => r.autoscaler === 'rpd').every((r) => r.interrupted === 0),
    },
  ]
  for (const workload of WORKLOADS) {
    const ours = row('rpd', workload.name)
    // A peer as fast or faster (p95) that costs less would beat rpd on both counts.
    const rivals = rows.filter(
      (r) =>
        r.workload === workload.name &&
        r.autoscaler !== 'rpd' &&
        r.p95LatencySeconds <= ours.p95LatencySeconds,
    )
    const cheapest = rivals.reduce<SimResult | null>(
      (best, r) => (best === null || r.workerSeconds < best.workerSeconds ? r : best),
      null,
    )
    checks.push({
      target: `${workload.name}: worker-seconds no higher than the cheapest peer with equal or better p95`,
      value: cheapest
        ? `${Math.round(ours.workerSeconds)} vs ${Math.round(cheapest.workerSeconds)} (${cheapest.autoscaler})`
        : `${Math.round(ours.workerSeconds)}; no peer has equal or better p95`,
      met: cheapest === null || ours.workerSeconds <= cheapest.workerSeconds,
    })
  }
  return checks
}
