import { configureAutoscale } from '../../client/apply-pool.js'
import { readFullStatus } from '../../client/pool-status.js'
import { parseDuration } from '../../autoscale/units.js'
import { usageError } from '../../errors.js'
import { readPool } from '../../state/pool-file.js'
import { inspectStateDir, statePaths } from '../../state/state-dir.js'
import { guardsFromFlags } from '../limit-options.js'
import { type Action, flagString } from './action.js'

function seconds(flags: Record<string, unknown>, name: string): number | undefined {
  const text = flagString(flags, name)
  if (text === undefined) return undefined
  let value: number
  try {
    value = parseDuration(text)
  } catch (error) {
    throw usageError(`--${name}: ${(error as Error).message}`)
  }
  if (!(value > 0)) throw usageError(`--${name} must be more than 0 s`)
  return value
}

// With knobs: sets them (for one group, or pool-wide) and has the master take them. Without: shows every
// automatic group's bounds, its count now and the last decision with its reason.
const autoscale: Action = async ({ dir, argv, flags, print }) => {
  const group = argv[0]
  const targetLatency = seconds(flags, 'target-latency')
  const downAfter = seconds(flags, 'down-after')
  const dryRun = flags['dry-run'] as boolean | undefined
  const guards = guardsFromFlags(flags)
  const limits = Object.keys(guards).length > 0
  if (targetLatency !== undefined || downAfter !== undefined || dryRun !== undefined || limits) {
    const outcome = await configureAutoscale(
      dir,
      { group, targetLatency, downAfter, dryRun, guards: limits ? guards : undefined },
      { wait: true, timeoutMs: 60_000 },
      print,
    )
    const where = group ?? 'every automatic group'
    const knobs = [
      targetLatency !== undefined ? `target latency ${targetLatency} s` : '',
      downAfter !== undefined ? `down after ${downAfter} s` : '',
      dryRun !== undefined
        ? dryRun
          ? 'dry run: decisions are logged, not applied'
          : 'decisions applied'
        : '',
    ].filter(Boolean)
    const state =
      outcome.kind === 'saved'
        ? ' (saved for the next start)'
        : outcome.kind === 'unchanged'
          ? ' (no change)'
          : ''
    print(`autoscale ${where}: ${knobs.join(', ')}${state}`)
    return undefined
  }
  const status = await readFullStatus(dir)
  if (status.running && status.autoscale) {
    const entries = Object.entries(group ? { [group]: status.autoscale[group] } : status.autoscale)
    if (group && !status.autoscale[group])
      throw usageError(`${group} is not an automatic group: see rpd autoscale`)
    for (const [name, report] of entries) {
      const running = status.workers.filter((w) => w.queues === name && w.state === 'running').length
      print(
        `${name}: ${running} running, desired ${report.desired} (${report.min}..${report.max}), target latency ${report.targetLatency} s, down after ${report.downAfter} s${report.dryRun ? ', dry run' : ''}`,
      )
      print(`  ${report.at ?? 'no decision yet'}: ${report.reason}`)
    }
    return undefined
  }
  const pool = inspectStateDir(dir) ? readPool(statePaths(dir)) : undefined
  const automatic = Object.entries(pool?.bounds ?? {})
  if (automatic.length === 0) {
    print('no automatic groups: make one with rpd scale GROUP=MIN..MAX (e.g. images=0..8)')
    return undefined
  }
  for (const [name, range] of automatic)
    print(`${name}: ${range.min}..${range.max}${status.running ? '' : ' (not running)'}`)
  return undefined
}
export default autoscale
