// The live autoscaling figure's part of docs/benchmarks.md: rows in the main table (medians over the burst
// runs) and a section with every run's numbers and the first decision's own log line.
import { median } from './lib/measure.mjs'

const sec = (v) => (Number.isFinite(v) ? `${v.toFixed(2)} s` : 'n/a')
const pct = (v) => (Number.isFinite(v) ? `${Math.round(v * 100)} %` : 'n/a')
const of = (runs, key) => median(runs.map((r) => r[key]).filter((v) => Number.isFinite(v)))

export function autoscaleLiveRows(live) {
  const { idle, burst, runs } = live
  const label = `real pool, ${burst.group}=${burst.min}..${burst.max}, ${burst.baseRate} → ${burst.burstRate} jobs/s of ${burst.jobMs} ms jobs`
  const first = of(runs, 'firstExtraWorkerS')
  const fraction = of(runs, 'firstDecisionFraction')
  const p95 = of(runs, 'p95BurstLatencyS')
  const lost = Math.max(...runs.map((r) => r.failed + (r.jobs - r.processed)))
  return [
    {
      id: 'autoscale-idle',
      figure: `master CPU, ${idle.groups} automatic groups idle (1..4 each, ${Math.round(idle.seconds)} s, 1 window)`,
      rpd: `${idle.cpuPct.toFixed(3)} %`,
      peer: '—',
      ratio: '—',
      target: '< 1 %',
      met: idle.cpuPct < 1,
    },
    {
      id: 'burst-first',
      figure: `10× burst, ${label}: first extra worker after the burst starts`,
      rpd: sec(first),
      peer: '—',
      ratio: '—',
      target: '≤ 2 s',
      met: first <= 2,
    },
    {
      id: 'burst-decision',
      figure: '… first decision, of the capacity needed',
      rpd: `${pct(fraction)} (${median(runs.map((r) => r.firstDecision?.to ?? NaN))} of ${runs[0].needed} workers)`,
      peer: '—',
      ratio: '—',
      target: '≥ 90 %',
      met: fraction >= 0.9,
    },
    {
      id: 'burst-p95',
      figure: `… p95 queue latency during the burst (target latency ${burst.targetLatencyS} s)`,
      rpd: sec(p95),
      peer: '—',
      ratio: '—',
      target: `≤ 1.5 × target (${(1.5 * burst.targetLatencyS).toFixed(1)} s)`,
      met: p95 <= 1.5 * burst.targetLatencyS,
    },
    {
      id: 'burst-lost',
      figure: '… jobs failed or lost (scale-down interrupts no busy job)',
      rpd: String(lost),
      peer: '—',
      ratio: '—',
      target: '0',
      met: lost === 0,
    },
  ]
}

export function autoscaleLiveSection({ results }) {
  const live = results.autoscaleLive
  if (!live) return []
  const b = live.burst
  const lines = [
    '## Autoscaling (a real pool)',
    '',
    `A pool with real Redis and built-in workers, \`${b.group}=${b.min}..${b.max}\`, \`rpd autoscale ${b.group} ` +
      `--target-latency ${b.targetLatencyS}s --down-after ${b.downAfterS}s\`. Jobs sleep ${b.jobMs} ms and record ` +
      `when they were enqueued and when their perform began. ${b.baseRate} jobs/s first (so the group has measured ` +
      `its service time), then ${b.burstRate} jobs/s (10×), then none. Workers are counted from /proc every ` +
      `50 ms; decisions are read from master.log. Capacity needed during the burst: ${b.burstRate} × ` +
      `${b.jobMs / 1000} s = ${((b.burstRate * b.jobMs) / 1000).toFixed(1)} workers. Idle cost: ` +
      `${live.idle.groups} groups \`1..4\` (one idle worker each) sampled every second, master CPU over one window ` +
      `(${live.idle.ticks} ticks in ${live.idle.seconds.toFixed(1)} s, ${live.idle.workers} workers running).`,
    '',
    '| run | burst | jobs | first extra worker | first decision | peak workers | p50 / p95 latency, burst | ' +
      'p95 latency, before | decisions in the steady part | worker-seconds | back to min after drain | failed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  live.runs.forEach((r, i) => {
    const d = r.firstDecision
    lines.push(
      `| ${i + 1} | ${r.burstSeconds} s | ${r.processed} of ${r.jobs} | ${sec(r.firstExtraWorkerS)} | ` +
        `${d ? `${d.from} → ${d.to} at ${sec(d.afterS)}` : 'none'} | ${r.peakWorkers} | ` +
        `${sec(r.p50BurstLatencyS)} / ${sec(r.p95BurstLatencyS)} | ${sec(r.p95SteadyLatencyS)} | ` +
        `${r.scaleEventsWarm} | ${Math.round(r.workerSeconds)} | ${sec(r.backToMinS)} | ${r.failed} |`,
    )
  })
  const d = live.runs[0].firstDecision
  if (d)
    lines.push('', `First decision of run 1, as logged: \`${b.group} ${d.from} -> ${d.to} (${d.reason})\`.`)
  lines.push('')
  return lines
}
