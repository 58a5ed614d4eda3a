import fs from 'node:fs'
import { Pool } from '../../client/pool.js'
import { usageError } from '../../errors.js'
import { parseDuration, parseSize } from '../../autoscale/units.js'
import { renderChart, renderSvg, renderTable } from '../../tune/chart.js'
import { type TuneProbe, type TuneReport, runTune } from '../../tune/run-tune.js'
import { type Action, abortOnInterrupt, flagString } from './action.js'

// The exit code for ^C: 128 + SIGINT, as a shell reports it.
const EXIT_INTERRUPTED = 130

const tune: Action = async ({ dir, argv, flags, print }) => {
  const group = argv[0]
  if (!group) throw usageError('missing GROUP: rpd tune GROUP --min N --max N')
  const json = Boolean(flags.json)
  const plot = flagString(flags, 'plot')
  const pool = new Pool({ stateDir: dir })
  const report = await runTune(
    {
      group,
      min: readCount(flags.min, '--min'),
      max: readCount(flags.max, '--max'),
      limits: {
        maxLoad: readLoad(flagString(flags, 'max-load')),
        minFreeMem: readFlag(flagString(flags, 'min-free-mem'), parseSize),
      },
      windowSeconds: readFlag(flagString(flags, 'window'), parseDuration),
      tolerance: readTolerance(flagString(flags, 'tolerance') ?? '5%'),
      save: Boolean(flags.save),
      redis: flagString(flags, 'redis'),
      namespace: flagString(flags, 'namespace'),
    },
    {
      pool,
      signal: abortOnInterrupt(),
      onProbe: json ? undefined : (probe, i) => print(describeProbe(probe, i)),
    },
  )
  if (plot) fs.writeFileSync(plot, renderSvg(report.probes, report.best, report.model))
  if (json) print(JSON.stringify(reportJson(report), null, 2))
  else describeReport(report, plot).forEach((line) => print(line))
  return report.stoppedBy === 'interrupted' ? EXIT_INTERRUPTED : undefined
}
export default tune

// The fast path hands flags over as typed; oclif as parsed: both arrive here as numbers or digit strings.
function readCount(value: unknown, flag: string): number {
  const count = Number(value)
  if (value === undefined || value === '' || !Number.isInteger(count) || count < 1)
    throw usageError(
      `${flag} must be a whole number of at least 1${value === undefined ? ': it is required' : `, not ${String(value)}`}`,
    )
  return count
}

function readLoad(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const load = Number(text)
  if (text.trim() === '' || !Number.isFinite(load) || load <= 0)
    throw usageError(`bad --max-load ${JSON.stringify(text)}: give the load average per core, above 0 (1.5)`)
  return load
}

function readFlag<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  if (text === undefined) return undefined
  try {
    return parse(text)
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error))
  }
}

// `5%` or a fraction (`0.05`).
function readTolerance(text: string): number {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text)
  const value = percent ? Number(percent[1]) / 100 : Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value >= 1)
    throw usageError(`bad --tolerance ${JSON.stringify(text)}: give a percentage from 0 to below 100 (5%)`)
  return value
}

function describeProbe(probe: TuneProbe, index: number): string {
  const host = Number.isFinite(probe.load)
    ? `, load ${probe.load.toFixed(2)} per core, ${formatGiB(probe.memAvailable)} free`
    : ''
  const over = probe.guardTripped ? `: over ${probe.guardTripped} (${probe.guardWhy})` : ''
  return `probe ${index + 1}: ${plural(probe.workers, 'worker')}, ${formatRate(probe.jobsPerSecond)} jobs/s ± ${formatRate(probe.spread)} over ${Math.round(probe.seconds)} s${host}${over}`
}

function describeReport(report: TuneReport, plot: string | undefined): string[] {
  const width = Math.min(Math.max(process.stdout.columns ?? 80, 40), 100)
  const lines = ['', ...renderTable(report.probes, report.best), '']
  if (report.probes.length)
    lines.push(...renderChart(report.probes, report.best, { width, model: report.model }), '')
  if (report.model) {
    const peak = Number.isFinite(report.model.peak) ? report.model.peak.toFixed(1) : 'none (still rising)'
    lines.push(
      `USL fit: alpha ${report.model.alpha.toFixed(3)}, beta ${report.model.beta.toExponential(2)}, peak ${peak}, r² ${report.model.r2.toFixed(3)}`,
    )
  }
  if (report.stoppedBy === 'interrupted') {
    lines.push(`interrupted: ${report.group} restored to ${report.startedFrom}`)
    return lines
  }
  const best = report.probes.find((p) => p.workers === report.best && !p.guardTripped)
  lines.push(
    `best: ${plural(report.best, 'worker')}${best ? ` (${formatRate(best.jobsPerSecond)} jobs/s)` : ''}, ${plural(report.probes.length, 'probe')} in ${Math.round(report.seconds)} s; stopped: ${explainStop(report)}`,
  )
  lines.push(
    report.kept === String(report.best)
      ? `${report.group} left at ${plural(report.best, 'worker')} (pool.yml holds ${report.group}=${report.best}; to go back: rpd scale ${report.group}=${report.startedFrom})`
      : `${report.group} is automatic again (${report.group}=${report.kept}); --save makes it ${report.group}=${report.best}`,
  )
  if (plot) lines.push(`wrote ${plot}`)
  return lines
}

function explainStop(report: TuneReport): string {
  switch (report.stoppedBy) {
    case 'converged':
      return 'nothing left worth probing'
    case 'bounds':
      return 'the best count is --max and throughput is still rising: a higher --max may pay'
    case 'guard':
      return `the ${report.guard} guard tripped${report.guardWhy ? ` (${report.guardWhy})` : ''}: the answer is below the count where it did`
    case 'max-probes':
      return 'the probe budget is used up'
    case 'drained':
      return 'the queues ran dry: the answer is from the counts measured before'
    default:
      return report.stoppedBy
  }
}

// The JSON the issue asks for; numbers that /proc could not give and an infinite peak are null.
function reportJson(report: TuneReport) {
  const finite = (value: number) => (Number.isFinite(value) ? value : null)
  return {
    group: report.group,
    best: report.best,
    startedFrom: report.startedFrom,
    probes: report.probes.map((p) => ({
      workers: p.workers,
      jobsPerSecond: p.jobsPerSecond,
      spread: p.spread,
      load: finite(p.load),
      memAvailable: finite(p.memAvailable),
      seconds: p.seconds,
      ...(p.guardTripped ? { guard: p.guardTripped, guardWhy: p.guardWhy } : {}),
    })),
    model: report.model
      ? {
          alpha: report.model.alpha,
          beta: report.model.beta,
          peak: finite(report.model.peak),
          r2: report.model.r2,
        }
      : null,
    stoppedBy: report.stoppedBy,
    ...(report.guard ? { guard: report.guard, guardWhy: report.guardWhy } : {}),
    seconds: report.seconds,
    kept: report.kept,
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

function formatRate(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)
}

function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`
}
