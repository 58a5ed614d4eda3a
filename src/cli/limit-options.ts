import { parseDuration, parseSize } from '../autoscale/units.js'
import { usageError } from '../errors.js'
import type { GuardConfig } from '../state/pool-file.js'

function positive(name: string, text: string, whole = false): number {
  const value = Number(text)
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(value > 0) || (whole && !Number.isInteger(value)))
    throw usageError(`--${name} ${JSON.stringify(text)}: use a ${whole ? 'whole ' : ''}number above 0`)
  return value
}

function checked<T>(name: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw usageError(`--${name}: ${(error as Error).message}`)
  }
}

// The limit flags given, as pool.yml's guards (only those set); bad values are exit 2, naming the flag.
export function guardsFromFlags(flags: Record<string, unknown>): GuardConfig {
  const text = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined)
  const guards: GuardConfig = {}
  const maxLoad = text('max-load')
  if (maxLoad !== undefined) guards.maxLoad = positive('max-load', maxLoad)
  const minFree = text('min-free-mem')
  if (minFree !== undefined) guards.minFreeMem = (checked('min-free-mem', () => parseSize(minFree)), minFree)
  const after = text('guard-after')
  if (after !== undefined) guards.guardAfter = checked('guard-after', () => parseDuration(after))
  const maxRss = text('max-rss')
  if (maxRss !== undefined) guards.maxRss = (checked('max-rss', () => parseSize(maxRss)), maxRss)
  const grace = text('max-rss-grace')
  if (grace !== undefined) guards.maxRssGrace = checked('max-rss-grace', () => parseDuration(grace))
  const maxTotal = text('max-total')
  if (maxTotal !== undefined) guards.maxTotal = positive('max-total', maxTotal, true)
  return guards
}
