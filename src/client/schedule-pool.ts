import { compileLimits } from '../autoscale/limits-config.js'
import { formatWindow, parseWindow } from '../autoscale/schedule.js'
import { usageError } from '../errors.js'
import { updatePool } from '../state/pool-lock.js'
import { ensureStateDir } from '../state/state-dir.js'
import { type ApplyOptions, type ApplyOutcome, applyPoolChange } from './apply-pool.js'
import type { Print } from './pool-wait.js'

export type ScheduleChange = { add: string; tz?: string } | { remove: number } | { tz: string }

// Adds or removes a time-of-day window (or sets the zone) in pool.yml under the lock; a running master
// takes it at once and changes the formation at the window's edges.
export async function changeSchedule(
  dir: string,
  change: ScheduleChange,
  options: ApplyOptions,
  print: Print,
): Promise<ApplyOutcome> {
  const paths = ensureStateDir(dir)
  const { after, changed } = await updatePool(paths, (pool) => {
    const schedules = [...pool.schedules]
    if ('add' in change) {
      let window
      try {
        window = parseWindow(change.add)
      } catch (error) {
        throw usageError(`bad window ${JSON.stringify(change.add)}: ${(error as Error).message}`)
      }
      if (Object.keys(window.entries).length === 0)
        throw usageError(
          `window ${JSON.stringify(change.add)} names no group: add entries such as ui=6 reports=0..2`,
        )
      schedules.push(formatWindow(window))
    } else if ('remove' in change) {
      if (!Number.isInteger(change.remove) || change.remove < 1 || change.remove > schedules.length)
        throw usageError(
          `no schedule window ${change.remove}: rpd schedule lists ${schedules.length ? `1 to ${schedules.length}` : 'none'}`,
        )
      schedules.splice(change.remove - 1, 1)
    }
    const next = { ...pool, schedules, timezone: 'tz' in change && change.tz ? change.tz : pool.timezone }
    compileLimits(next)
    return next
  })
  return changed
    ? applyPoolChange(paths, after, options, print, 'changing the schedule')
    : { kind: 'unchanged', pool: after }
}
