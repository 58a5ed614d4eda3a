// Autoscaling side by side: rpd's policy and the policies users run today (KEDA + HPA, Judoscale-style steps,
// Celery --autoscale) replayed through the same seeded simulation of a Resque group, one comparison per seed,
// on the three workloads of dist/autoscale/simulate.js. CPU is this process's user+system time for all of it.
import { median } from '../lib/measure.mjs'
import {
  AUTOSCALERS,
  RPD,
  WORKLOADS,
  assessTargets,
  compareAutoscalers,
  simulate,
} from '../../../dist/autoscale/simulate.js'

const BURST_OFFSETS_S = [0, 0.25, 0.5, 0.75]
const METRICS = [
  'firstWorkerSeconds',
  'firstDecisionFraction',
  'secondsToNeeded',
  'p95BurstLatencySeconds',
  'p95LatencySeconds',
  'scaleEventsPerHour',
  'interrupted',
  'workerSeconds',
  'peakWorkers',
]

export async function measureAutoscale(ctx) {
  const seeds = Array.from({ length: ctx.runs }, (_, i) => i + 1)
  const before = process.cpuUsage()
  const runs = seeds.map((seed) => {
    const rows = compareAutoscalers(seed)
    return { seed, rows, checks: assessTargets(rows) }
  })
  const used = process.cpuUsage(before)
  // The same burst starting part-way between two samples: the first decision sees only part of the step.
  const burst = WORKLOADS.find((w) => w.name === 'burst')
  const phases = BURST_OFFSETS_S.map((offset) => {
    const shifted = {
      ...burst,
      rate: (t) => burst.rate(t - offset),
      burst: { ...burst.burst, from: burst.burst.from + offset, to: burst.burst.to + offset },
    }
    const rows = seeds.map((seed) => simulate(RPD, shifted, seed))
    const of = (key) => median(rows.map((r) => r[key] ?? NaN))
    return {
      offset,
      firstWorkerSeconds: of('firstWorkerSeconds'),
      firstDecisionFraction: of('firstDecisionFraction'),
      secondsToNeeded: of('secondsToNeeded'),
      p95BurstLatencySeconds: of('p95BurstLatencySeconds'),
    }
  })
  const medians = []
  for (const workload of WORKLOADS)
    for (const kind of AUTOSCALERS) {
      const rows = runs.map((run) =>
        run.rows.find((r) => r.workload === workload.name && r.autoscaler === kind.name),
      )
      const row = { workload: workload.name, autoscaler: kind.name }
      for (const metric of METRICS) row[metric] = median(rows.map((r) => r[metric] ?? NaN))
      medians.push(row)
    }
  const targets = runs[0].checks.map((check, i) => ({
    target: check.target,
    values: runs.map((run) => run.checks[i].value),
    metIn: runs.filter((run) => run.checks[i].met).length,
    of: runs.length,
  }))
  ctx.log(`autoscale: ${runs.length} seeds in ${Math.round((used.user + used.system) / 1000)} ms of CPU`)
  return {
    seeds,
    cpuMsPerComparison: (used.user + used.system) / 1000 / runs.length,
    workloads: WORKLOADS.map((w) => ({
      name: w.name,
      label: w.label,
      seconds: w.seconds,
      measureFrom: w.measureFrom,
    })),
    autoscalers: AUTOSCALERS.map((a) => ({ name: a.name, label: a.label, stop: a.stop })),
    medians,
    targets,
    phases,
    runs,
  }
}

const seconds = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} s` : '—')
const percent = (v) => (Number.isFinite(v) ? `${Math.round(v * 100)} %` : '—')
const count = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—')
const perHour = (v) => (Number.isFinite(v) ? v.toFixed(1) : '—')

// The figure's two tables as markdown lines: every autoscaler on every workload (medians over seeds), then
// rpd's targets with the value of each seed.
export function formatAutoscale(data) {
  const label = (name) => data.autoscalers.find((a) => a.name === name).label
  const lines = [
    '| workload | autoscaler | first extra worker | first decision, of needed | 90 % of needed asked | ' +
      'p95 latency, burst | p95 latency | scale events / h | jobs interrupted | worker-seconds | peak workers |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of data.medians)
    lines.push(
      `| ${r.workload} | ${label(r.autoscaler)} | ${seconds(r.firstWorkerSeconds)} | ` +
        `${percent(r.firstDecisionFraction)} | ${seconds(r.secondsToNeeded)} | ` +
        `${seconds(r.p95BurstLatencySeconds)} | ${seconds(r.p95LatencySeconds)} | ${perHour(r.scaleEventsPerHour)} | ` +
        `${count(r.interrupted)} | ${count(r.workerSeconds)} | ${count(r.peakWorkers)} |`,
    )
  lines.push('', '| rpd target | value per seed | met |', '| --- | --- | --- |')
  for (const t of data.targets)
    lines.push(
      `| ${t.target} | ${t.values.join('; ')} | ${t.metIn === t.of ? 'yes' : `**${t.metIn} of ${t.of}**`} |`,
    )
  lines.push(
    '',
    '| rpd, burst starting this long after a sample | first extra worker | first decision, of needed | ' +
      '90 % of needed asked | p95 latency, burst |',
    '| --- | --- | --- | --- | --- |',
  )
  for (const p of data.phases)
    lines.push(
      `| ${p.offset} s | ${seconds(p.firstWorkerSeconds)} | ${percent(p.firstDecisionFraction)} | ` +
        `${seconds(p.secondsToNeeded)} | ${seconds(p.p95BurstLatencySeconds)} |`,
    )
  return lines
}
