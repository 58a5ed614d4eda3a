import { specError } from '../errors.js'

// queue group -> worker count, in the order groups were first named.
export type Formation = Record<string, number>

// A change to one group: set to a count, or adjust by a delta (scale's foo=+2 / foo=-1).
export type FormationChange = { group: string; set: number } | { group: string; delta: number }

export const MAX_WORKERS_PER_GROUP = 1000
const COUNT = /^\d+$/
const DELTA = /^[+-]\d+$/
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

// Parses a spec (`foo=2:bar=2:baz,quux=5:*=1`, or the same as separate arguments); a later entry wins.
export function parseFormation(specs: string | readonly string[]): Formation {
  const formation: Formation = {}
  for (const token of tokensOf(typeof specs === 'string' ? [specs] : specs)) {
    const [group, count] = splitToken(token)
    formation[group] = parseCount(count, token)
  }
  return formation
}

// Parses scale's changes: `foo=4` sets, `foo=+2` / `foo=-1` adjust.
export function parseChanges(specs: readonly string[]): FormationChange[] {
  return tokensOf(specs).map((token) => {
    const [group, value] = splitToken(token)
    if (DELTA.test(value)) {
      const delta = parseCount(value.slice(1), token)
      return { group, delta: value[0] === '-' ? -delta : delta }
    }
    return { group, set: parseCount(value, token) }
  })
}

// Applies changes to a formation; a group that reaches 0 is removed. Returns a new formation.
export function applyChanges(formation: Formation, changes: readonly FormationChange[]): Formation {
  const next: Formation = { ...formation }
  for (const change of changes) {
    const count = 'set' in change ? change.set : Math.max(0, (next[change.group] ?? 0) + change.delta)
    if (count > MAX_WORKERS_PER_GROUP)
      throw specError(
        `${change.group} would have ${count} workers, over the limit of ${MAX_WORKERS_PER_GROUP} per group`,
      )
    if (count === 0) delete next[change.group]
    else next[change.group] = count
  }
  return next
}

// Checks a formation read from a file (pool.yml, resque-pool.yml): every group valid, every count in range.
export function validateFormation(value: unknown, where: string): Formation {
  if (value === null || value === undefined) return {}
  if (typeof value !== 'object' || Array.isArray(value))
    throw specError(`${where}: the formation must be a mapping of queue group to worker count`)
  const formation: Formation = {}
  for (const [group, count] of Object.entries(value)) {
    try {
      validateGroup(group)
    } catch (error) {
      throw specError(`${where}: ${(error as Error).message}`)
    }
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_WORKERS_PER_GROUP)
      throw specError(
        `${where}: bad worker count ${showToken(String(count))} for ${showToken(group)}: use a whole number from 0 to ${MAX_WORKERS_PER_GROUP}`,
      )
    if (count > 0) formation[group] = count
  }
  return formation
}

export function sameFormation(a: Formation, b: Formation): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}

// The WORKERS form of a formation: foo=2:bar=2.
export function formatFormation(formation: Formation): string {
  return Object.entries(formation)
    .map(([group, count]) => `${group}=${count}`)
    .join(':')
}
