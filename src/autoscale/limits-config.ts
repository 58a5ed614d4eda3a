import os from 'node:os'
import { usageError } from '../errors.js'
import type { FormationSpec } from '../state/formation.js'
import type { PoolConfig } from '../state/pool-file.js'
import { validateBudget } from './budget.js'
import {
  DEFAULT_GUARD_AFTER_SECONDS,
  type GuardSettings,
  RSS_KILL_AFTER_MS,
  type RssSettings,
} from './guards.js'
import {
  type ScheduleWindow,
  activeOverrides,
  localTimeZone,
  parseEntry,
  parseWindow,
  validateTimeZone,
} from './schedule.js'
import { parseSize, resolveSize } from './units.js'

export const DEFAULT_RSS_SAMPLES = 3

// pool.yml's guards, budget and schedules, checked and in the units the pure rules take.
export interface Limits {
  guards: GuardSettings
  rss?: RssSettings
  maxTotal?: number
  windows: ScheduleWindow[]
  timezone: string
}

function check<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw usageError(`${what}: ${(error as Error).message}`)
  }
}

// Every problem is one line naming the setting (`--max-rss`, `schedule 2`) and what it accepts.
export function compileLimits(pool: PoolConfig): Limits {
  const g = pool.guards
  const guards: GuardSettings = {
    maxLoad: g.maxLoad,
    minFreeMem:
      g.minFreeMem === undefined ? undefined : check('--min-free-mem', () => parseSize(g.minFreeMem!)),
    guardAfterSeconds: g.guardAfter ?? DEFAULT_GUARD_AFTER_SECONDS,
  }
  const rss =
    g.maxRss === undefined
      ? undefined
      : {
          maxRss: check('--max-rss', () => resolveSize(parseSize(g.maxRss!), os.totalmem())),
          samples: g.rssSamples ?? DEFAULT_RSS_SAMPLES,
          graceMs: (g.maxRssGrace ?? guards.guardAfterSeconds) * 1000,
          killAfterMs: RSS_KILL_AFTER_MS,
        }
  const named = pool.timezone ? check('--tz', () => validateTimeZone(pool.timezone!)) : undefined
  const windows = pool.schedules.map((line, i) =>
    check(`schedule ${i + 1} (${line})`, () => parseWindow(line)),
  )
  // The local zone is asked of Intl only when read: its data costs a master without schedules about 8 MB.
  let local: string | undefined
  const limits: Limits = {
    guards,
    rss,
    maxTotal: g.maxTotal,
    windows,
    get timezone() {
      return named ?? (local ??= localTimeZone())
    },
  }
  if (limits.maxTotal !== undefined) checkBudget(pool, limits.maxTotal)
  return limits
}

// Manual counts and automatic minimums must fit the budget, or it could never be kept.
function checkBudget(pool: PoolConfig, maxTotal: number): void {
  const groups = Object.entries(pool.formation).map(([name, count]) => ({
    name,
    automatic: Boolean(pool.bounds[name]),
    min: pool.bounds[name]?.min ?? count,
    want: count,
  }))
  check('--max-total', () => validateBudget(groups, maxTotal))
}

// The formation in force at `now`: pool.yml's, with each active window's entries in place of the base
// ones for the groups they name (a later-listed window wins); nextChangeAt is the next window edge.
export function scheduledSpec(
  pool: PoolConfig,
  limits: Limits,
  now: number,
): FormationSpec & { active: number[]; nextChangeAt: number | null } {
  const formation = { ...pool.formation }
  const bounds = { ...pool.bounds }
  if (limits.windows.length === 0) return { formation, bounds, active: [], nextChangeAt: null }
  const { overrides, active, nextChangeAt } = activeOverrides(limits.windows, now, limits.timezone)
  for (const [group, text] of Object.entries(overrides)) {
    const entry = parseEntry(text)
    if ('count' in entry) {
      delete bounds[group]
      if (entry.count === 0) delete formation[group]
      else formation[group] = entry.count
    } else {
      bounds[group] = { min: entry.min, max: entry.max }
      formation[group] = entry.min
    }
  }
  return { formation, bounds, active, nextChangeAt }
}
