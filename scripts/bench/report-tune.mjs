// The tune figure's part of docs/benchmarks.md: a row per workload in the main table, and a section with
// rpd's choice beside the sweep's best and every count the sweep measured.
const rate = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} jobs/s` : 'n/a')
const yes = (ok) => (ok ? 'yes' : '**no**')

export function tuneRows(tune) {
  return tune.runs.map((run) => {
    const v = run.verdict
    return {
      id: `tune-${run.workload}`,
      figure: `\`rpd tune\`, ${run.label}, 1..${run.max}`,
      rpd: `${run.tune.best} workers, ${run.tune.probes.length} probes, ${Math.round(run.tuneSeconds)} s`,
      peer: `${v.sweepBest} workers, ${rate(v.sweepBestRate)}, ${Math.round(run.sweepSeconds)} s (sweep of every count)`,
      ratio: `${(run.tuneSeconds / run.sweepSeconds).toFixed(2)}× time`,
      target: 'within 1 worker or 5 %, ≤ 10 probes, < ½ the time',
      met: v.within && v.fewProbes && v.fast,
    }
  })
}

export function tuneSection({ results }) {
  const tune = results.tune
  if (!tune) return []
  const lines = [
    '## Tune',
    '',
    `\`rpd tune GROUP --min 1 --max N --window ${tune.runs[0]?.window ?? '4s'}\` on a pool of built-in workers with a ` +
      'backlog of 20,000 jobs, then a sweep of every count from 1 to N measured the same way (one ' +
      "`rpd tune --min n --max n` per count). Times are the tune runs' own, from the first change of count to the " +
      `last. ${tune.cores} cores.`,
    '',
    '| workload | expected best | rpd chose | its rate in the sweep | sweep best | probes | rpd time | sweep time | within 1 worker or 5 %? | ≤ 10 probes? | < ½ the time? |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const run of tune.runs) {
    const v = run.verdict
    lines.push(
      `| ${run.label} | ${run.expected} | ${run.tune.best} (${run.tune.stoppedBy}) | ${rate(v.chosenRate)} | ` +
        `${v.sweepBest} (${rate(v.sweepBestRate)}) | ${run.tune.probes.length} | ${Math.round(run.tuneSeconds)} s | ` +
        `${Math.round(run.sweepSeconds)} s | ${yes(v.within)} | ${yes(v.fewProbes)} | ${yes(v.fast)} |`,
    )
  }
  lines.push('')
  for (const run of tune.runs) {
    const probes = run.tune.probes.map((p) => `${p.workers}: ${p.jobsPerSecond.toFixed(1)}`).join(', ')
    const sweep = run.sweep.map((p) => `${p.workers}: ${p.jobsPerSecond.toFixed(1)}`).join(', ')
    lines.push(`- ${run.label}: rpd probed (workers: jobs/s) ${probes}; the sweep measured ${sweep}.`)
  }
  lines.push('')
  return lines
}
