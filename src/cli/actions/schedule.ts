import { changeSchedule } from '../../client/schedule-pool.js'
import { readFullStatus } from '../../client/pool-status.js'
import { compileLimits, scheduledSpec } from '../../autoscale/limits-config.js'
import { formatWindow } from '../../autoscale/schedule.js'
import { usageError } from '../../errors.js'
import { formatFormation } from '../../state/formation.js'
import { readPool } from '../../state/pool-file.js'
import { inspectStateDir, statePaths } from '../../state/state-dir.js'
import { type Action, flagString } from './action.js'

// rpd schedule [add WINDOW ENTRY... | rm N] [--tz ZONE]: time-of-day windows whose entries replace the base
// formation's for the groups they name, from the window's start to its end.
const schedule: Action = async ({ dir, argv, flags, print }) => {
  const [verb, ...rest] = argv
  const tz = flagString(flags, 'tz')
  const wait = { wait: true, timeoutMs: 60_000 }
  if (verb === 'add') {
    if (rest.length === 0)
      throw usageError("rpd schedule add needs a window: rpd schedule add 'mon-fri 09:00-18:00' ui=6")
    await changeSchedule(dir, { add: rest.join(' '), tz }, wait, print)
  } else if (verb === 'rm' || verb === 'remove') {
    await changeSchedule(dir, { remove: Number(rest[0]) }, wait, print)
  } else if (verb !== undefined && verb !== 'list') {
    throw usageError(
      `unknown schedule verb ${JSON.stringify(verb)}: use rpd schedule, rpd schedule add WINDOW ENTRY..., or rpd schedule rm N`,
    )
  } else if (tz) await changeSchedule(dir, { tz }, wait, print)
  const pool = inspectStateDir(dir) ? readPool(statePaths(dir)) : undefined
  if (!pool || pool.schedules.length === 0) {
    print("no schedule windows: add one with rpd schedule add 'mon-fri 09:00-18:00' ui=6 reports=0..2")
    return undefined
  }
  const limits = compileLimits(pool)
  const status = await readFullStatus(dir)
  const now = Date.now() + (Number(process.env.RPD_CLOCK_OFFSET_MS) || 0)
  const spec = scheduledSpec(pool, limits, now)
  print(`time zone ${limits.timezone}${status.running ? '' : ' (pool not running)'}`)
  limits.windows.forEach((window, i) =>
    print(`${i + 1}${spec.active.includes(i) ? ' (active)' : ''}: ${formatWindow(window)}`),
  )
  print(`formation now: ${formatFormation(spec.formation, spec.bounds) || '(no workers)'}`)
  if (spec.nextChangeAt !== null) print(`next change: ${new Date(spec.nextChangeAt).toISOString()}`)
  return undefined
}
export default schedule
