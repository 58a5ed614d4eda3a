import { specError } from '../errors.js'

// queue group -> worker count, in the order groups were first named.
export type Formation = Record<string, number>

// An automatic group's bounds (`images=0..8`): the pool sizes it from its queues within them.
export interface Range {
  min: number
  max: number
}
export type Bounds = Record<string, Range>

// What a spec asks for: a count per group (an automatic group's count is its minimum, kept even at 0)
// and the bounds of the automatic groups.
export interface FormationSpec {
  formation: Formation
  bounds: Bounds
}

// A change to one group: set to a count, adjust by a delta (scale's foo=+2 / foo=-1), or make automatic.
export type FormationChange =
  { group: string; set: number } | { group: string; delta: number } | { group: string; range: Range }

export const MAX_WORKERS_PER_GROUP = 1000
const COUNT = /^\d+$/
const DELTA = /^[+-]\d+$/
const RANGE = /^(\d+)\.\.(\d+)$/
// Printable, and none of: whitespace, ',', '=', ':' (they separate tokens), control or non-UTF-8 bytes.
const BAD_QUEUE_CHAR = /[\s,=:\p{Cc}\p{Cf}\p{Co}\p{Cn}\uFFFD]/u
const MAX_TOKEN_SHOWN = 60

// Shortens a token for an error message so a hostile 100 KB argument still gives a one-line error.
export function showToken(token: string): string {
  const printable = JSON.stringify(token)
  return printable.length > MAX_TOKEN_SHOWN
    ? `${printable.slice(0, MAX_TOKEN_SHOWN)}…" (${token.length} chars)`
    : printable
}

export function validateGroup(group: string, token: string = group): string {
  if (group === '')
    throw specError(`empty queue group in ${showToken(token)}: write it as QUEUE=COUNT, e.g. foo=2`)
  for (const queue of group.split(',')) {
    if (queue === '')
      throw specError(
        `empty queue name in group ${showToken(group)}: separate queue names with single commas`,
      )
    const bad = BAD_QUEUE_CHAR.exec(queue)
    if (bad)
      throw specError(
        `queue name ${showToken(queue)} contains ${JSON.stringify(bad[0])}: queue names may not hold whitespace, control characters, ',', '=' or ':'`,
      )
  }
  return group
}

function parseCount(text: string, token: string): number {
  if (!COUNT.test(text))
    throw specError(
      `bad worker count ${showToken(text)} in ${showToken(token)}: use a whole number from 0 to ${MAX_WORKERS_PER_GROUP}`,
    )
  const count = Number(text)
  if (count > MAX_WORKERS_PER_GROUP)
    throw specError(
      `worker count ${showToken(text)} in ${showToken(token)} is over the limit of ${MAX_WORKERS_PER_GROUP} per group`,
    )
  return count
}

function splitToken(token: string): [string, string] {
  const at = token.indexOf('=')
  if (at < 0) throw specError(`missing '=' in ${showToken(token)}: write it as QUEUE=COUNT, e.g. foo=2`)
  return [validateGroup(token.slice(0, at), token), token.slice(at + 1)]
}

// Splits `foo=2:bar=2` and separate arguments alike into QUEUE=COUNT tokens.
function tokensOf(specs: readonly string[]): string[] {
  const tokens = specs.flatMap((spec) => spec.split(':'))
  if (tokens.length === 0) throw specError('no workers given: name at least one QUEUE=COUNT, e.g. foo=2')
  return tokens
}

// `2..12`: an automatic group's bounds, the minimum at most the maximum, the maximum at least 1.
export function parseRange(text: string, token: string = text): Range | undefined {
  const match = RANGE.exec(text)
  if (!match) return undefined
  const min = parseCount(match[1], token)
  const max = parseCount(match[2], token)
  if (min > max)
    throw specError(
      `bad range ${showToken(text)} in ${showToken(token)}: write MIN..MAX with MIN <= MAX, e.g. 0..8`,
    )
  if (max === 0)
    throw specError(`bad range ${showToken(text)} in ${showToken(token)}: the maximum must be at least 1`)
  return { min, max }
}

// Parses a spec (`foo=2:bar=2:baz,quux=5:*=1`, `images=0..8`, or the same as separate arguments); a later
// entry wins.
export function parseSpec(specs: string | readonly string[]): FormationSpec {
  const spec: FormationSpec = { formation: {}, bounds: {} }
  for (const token of tokensOf(typeof specs === 'string' ? [specs] : specs)) {
    const [group, value] = splitToken(token)
    const range = parseRange(value, token)
    if (range) spec.bounds[group] = range
    else delete spec.bounds[group]
    spec.formation[group] = range ? range.min : parseCount(value, token)
  }
  return spec
}

// The counts of a spec; an automatic group counts as its minimum (parseSpec keeps its bounds).
export function parseFormation(specs: string | readonly string[]): Formation {
  return parseSpec(specs).formation
}

// Parses scale's changes: `foo=4` sets, `foo=+2` / `foo=-1` adjust, `foo=2..12` makes it automatic.
export function parseChanges(specs: readonly string[]): FormationChange[] {
  return tokensOf(specs).map((token) => {
    const [group, value] = splitToken(token)
    if (DELTA.test(value)) {
      const delta = parseCount(value.slice(1), token)
      return { group, delta: value[0] === '-' ? -delta : delta }
    }
    const range = parseRange(value, token)
    return range ? { group, range } : { group, set: parseCount(value, token) }
  })
}

// Applies changes; a manual group that reaches 0 is removed, an automatic one stays with its bounds.
// A count makes an automatic group manual again. Returns a new spec.
export function applyChanges(spec: FormationSpec, changes: readonly FormationChange[]): FormationSpec {
  const formation: Formation = { ...spec.formation }
  const bounds: Bounds = { ...spec.bounds }
  for (const change of changes) {
    const { group } = change
    if ('range' in change) {
      formation[group] = change.range.min
      bounds[group] = change.range
      continue
    }
    if ('delta' in change && bounds[group])
      throw specError(
        `${group} is automatic (${formatRange(bounds[group])}): scale it to a count (${group}=4) or to new bounds (${group}=2..12)`,
      )
    const count = 'set' in change ? change.set : Math.max(0, (formation[group] ?? 0) + change.delta)
    if (count > MAX_WORKERS_PER_GROUP)
      throw specError(
        `${group} would have ${count} workers, over the limit of ${MAX_WORKERS_PER_GROUP} per group`,
      )
    delete bounds[group]
    if (count === 0) delete formation[group]
    else formation[group] = count
  }
  return { formation, bounds }
}

export function formatRange(range: Range): string {
  return `${range.min}..${range.max}`
}

// Checks a formation read from a file (pool.yml, resque-pool.yml): every group valid, every count in range;
// an automatic group is written as its range, `images: 0..8`.
export function validateFormationSpec(value: unknown, where: string): FormationSpec {
  if (value === null || value === undefined) return { formation: {}, bounds: {} }
  if (typeof value !== 'object' || Array.isArray(value))
    throw specError(`${where}: the formation must be a mapping of queue group to worker count`)
  const formation: Formation = {}
  const bounds: Bounds = {}
  for (const [group, count] of Object.entries(value)) {
    try {
      validateGroup(group)
    } catch (error) {
      throw specError(`${where}: ${(error as Error).message}`)
    }
    if (group === '__proto__' || group === 'constructor' || group === 'prototype')
      throw specError(`${where}: ${showToken(group)} cannot be a queue group name`)
    const range = typeof count === 'string' ? parseRange(count.trim(), `${group}: ${count}`) : undefined
    if (range) {
      bounds[group] = range
      formation[group] = range.min
      continue
    }
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_WORKERS_PER_GROUP)
      throw specError(
        `${where}: bad worker count ${showToken(String(count))} for ${showToken(group)}: use a whole number from 0 to ${MAX_WORKERS_PER_GROUP}`,
      )
    if (count > 0) formation[group] = count
  }
  return { formation, bounds }
}

export function validateFormation(value: unknown, where: string): Formation {
  return validateFormationSpec(value, where).formation
}

export function sameFormation(a: Formation, b: Formation): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}

export function sameSpec(a: FormationSpec, b: FormationSpec): boolean {
  const ranges = (bounds: Bounds) =>
    Object.fromEntries(Object.entries(bounds).map(([group, range]) => [group, formatRange(range)]))
  return (
    sameFormation(a.formation, b.formation) &&
    JSON.stringify(ranges(a.bounds)) === JSON.stringify(ranges(b.bounds))
  )
}

// The WORKERS form of a formation: foo=2:bar=2, an automatic group as its range (images=0..8).
export function formatFormation(formation: Formation, bounds: Bounds = {}): string {
  return Object.entries(formation)
    .map(([group, count]) => `${group}=${bounds[group] ? formatRange(bounds[group]) : count}`)
    .join(':')
}

// The formation as pool.yml and resque-pool.yml write it: counts, and an automatic group's range as text.
export function formationDocument(spec: FormationSpec): Record<string, number | string> {
  return Object.fromEntries(
    Object.entries(spec.formation).map(([group, count]) => [
      group,
      spec.bounds[group] ? formatRange(spec.bounds[group]) : count,
    ]),
  )
}
