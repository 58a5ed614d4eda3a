// A formation entry a window sets: a fixed count, or a range for an automatic group.
export type EntrySpec = { count: number } | { min: number; max: number }

export interface ScheduleWindow {
  // Days the window starts on, 0 = Sunday .. 6 = Saturday; null for every day.
  days: number[] | null
  // Minutes after local midnight; end is 1..1440 and may be <= start, wrapping past midnight.
  start: number
  end: number
  // group -> entry text ('6' or '0..2'), in the order written.
  entries: Record<string, string>
}

export interface ActiveOverrides {
  overrides: Record<string, string>
  active: number[]
  nextChangeAt: number | null
}

const MAX_WORKERS_PER_GROUP = 1000
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const FULL_DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
const TIME_RANGE = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/
const COUNT = /^\d+$/
const RANGE = /^(\d+)\.\.(\d+)$/
const BAD_GROUP_CHAR = /[\s=:\p{Cc}\p{Cf}]/u
const MINUTE_MS = 60_000
const DAY_MS = 86_400_000
// Wider than any zone's offset, so both sides of a transition near a wall time are seen.
const OFFSET_SPAN_MS = 15 * 3_600_000
const MAX_TOKEN_SHOWN = 40

function show(token: string): string {
  const printable = JSON.stringify(token)
  return printable.length > MAX_TOKEN_SHOWN ? `${printable.slice(0, MAX_TOKEN_SHOWN)}…"` : printable
}

function parseDay(name: string, token: string): number {
  const lower = name.toLowerCase()
  const day = DAY_NAMES.indexOf(lower) >= 0 ? DAY_NAMES.indexOf(lower) : FULL_DAY_NAMES.indexOf(lower)
  if (day < 0)
    throw new Error(
      `bad day ${show(name)} in ${show(token)}: use mon, tue, wed, thu, fri, sat, sun, as lists or ranges (mon-fri, sat,sun)`,
    )
  return day
}

// `mon-fri`, `sat,sun`, `fri-mon` (a range may wrap past Sunday), `mon,wed-fri`.
function parseDays(token: string): number[] {
  const days = new Set<number>()
  for (const part of token.split(',')) {
    const range = part.split('-')
    if (range.length > 2 || part === '')
      throw new Error(`bad day list ${show(token)}: write days like mon-fri or sat,sun`)
    const from = parseDay(range[0]!, token)
    const to = parseDay(range[range.length - 1]!, token)
    for (let day = from; ; day = (day + 1) % 7) {
      days.add(day)
      if (day === to) break
    }
  }
  return [...days].sort((a, b) => a - b)
}

function parseTimes(token: string): { start: number; end: number } {
  const match = TIME_RANGE.exec(token)
  if (!match)
    throw new Error(`bad time range ${show(token)}: write it as HH:MM-HH:MM, e.g. 09:00-18:00 or 22:00-06:00`)
  const [startHour, startMinute, endHour, endMinute] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
  ]
  if (
    startHour > 23 ||
    startMinute > 59 ||
    endHour > 24 ||
    endMinute > 59 ||
    (endHour === 24 && endMinute > 0)
  )
    throw new Error(`bad time in ${show(token)}: hours run 00 to 23 (24:00 only as an end), minutes 00 to 59`)
  const start = startHour * 60 + startMinute
  const end = endHour * 60 + endMinute
  if (start === end % 1440 && end !== 1440)
    throw new Error(`time range ${show(token)} is empty: use 00:00-24:00 for a whole day`)
  return { start, end: end === 0 ? 1440 : end }
}

// Reads a window's entry value: `6` or `0..2`.
export function parseEntry(text: string): EntrySpec {
  const range = RANGE.exec(text)
  if (range) {
    const min = Number(range[1])
    const max = Number(range[2])
    if (min > max) throw new Error(`bad range ${show(text)}: the minimum comes first, e.g. 0..2`)
    if (max > MAX_WORKERS_PER_GROUP)
      throw new Error(`range ${show(text)} is over the limit of ${MAX_WORKERS_PER_GROUP} workers per group`)
    return { min, max }
  }
  if (!COUNT.test(text))
    throw new Error(`bad worker count ${show(text)}: use a whole number (6) or a range (0..2)`)
  const count = Number(text)
  if (count > MAX_WORKERS_PER_GROUP)
    throw new Error(`worker count ${show(text)} is over the limit of ${MAX_WORKERS_PER_GROUP} per group`)
  return { count }
}

export function formatEntry(spec: EntrySpec): string {
  return 'count' in spec ? String(spec.count) : `${spec.min}..${spec.max}`
}

function parseEntries(token: string, entries: Record<string, string>): void {
  for (const part of token.split(':')) {
    const at = part.indexOf('=')
    if (at <= 0)
      throw new Error(
        `bad entry ${show(part)}: write it as GROUP=COUNT or GROUP=MIN..MAX, e.g. ui=6 reports=0..2`,
      )
    const group = part.slice(0, at)
    const bad = BAD_GROUP_CHAR.exec(group)
    if (bad || group.split(',').includes(''))
      throw new Error(
        `bad queue group ${show(group)} in ${show(part)}: queue names are separated by single commas`,
      )
    entries[group] = formatEntry(parseEntry(part.slice(at + 1)))
  }
}

// Reads `[DAYS] HH:MM-HH:MM GROUP=SPEC...`, e.g. `mon-fri 09:00-18:00 ui=6 reports=0..2`.
export function parseWindow(text: string): ScheduleWindow {
  const tokens = text.trim().split(/\s+/).filter(Boolean)
  if (tokens.length === 0)
    throw new Error(
      'empty schedule window: write it as [DAYS] HH:MM-HH:MM GROUP=COUNT..., e.g. mon-fri 09:00-18:00 ui=6',
    )
  let days: number[] | null = null
  if (!/^\d/.test(tokens[0]!)) days = parseDays(tokens.shift()!)
  const times = tokens.shift()
  if (times === undefined)
    throw new Error(`schedule window ${show(text)} has no time range: add one like 09:00-18:00`)
  const { start, end } = parseTimes(times)
  const entries: Record<string, string> = {}
  for (const token of tokens) parseEntries(token, entries)
  if (Object.keys(entries).length === 0)
    throw new Error(`schedule window ${show(text)} sets no group: add entries like ui=6 reports=0..2`)
  if (days !== null && days.length === 7) days = null
  return { days, start, end, entries }
}

function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

// Days in week order from Monday, runs of three or more as ranges: mon-fri, sat,sun, mon,wed-fri.
function formatDays(days: number[]): string {
  const order = [...days].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7))
  const parts: string[] = []
  for (let i = 0; i < order.length;) {
    let j = i
    while (j + 1 < order.length && order[j + 1] === (order[j]! + 1) % 7 && order[j + 1] !== 1) j++
    parts.push(
      j - i >= 2
        ? `${DAY_NAMES[order[i]!]}-${DAY_NAMES[order[j]!]}`
        : order
            .slice(i, j + 1)
            .map((day) => DAY_NAMES[day])
            .join(','),
    )
    i = j + 1
  }
  return parts.join(',')
}

// The window as parseWindow reads it back: `mon-fri 09:00-18:00 ui=6 reports=0..2`.
export function formatWindow(window: ScheduleWindow): string {
  const entries = Object.entries(window.entries).map(([group, spec]) => `${group}=${spec}`)
  const days = window.days === null ? [] : [formatDays(window.days)]
  return [...days, `${formatMinutes(window.start)}-${formatMinutes(window.end)}`, ...entries].join(' ')
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

// Checks an IANA zone name (Europe/Berlin) and returns it; a one-line error otherwise.
export function validateTimeZone(timeZone: string): string {
  try {
    formatterFor(timeZone)
  } catch {
    throw new Error(`unknown time zone ${show(timeZone)}: use an IANA name such as Europe/Berlin or UTC`)
  }
  return timeZone
}

export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone
}

// The wall-clock time at an instant in a zone, as if it were UTC (ms): its offset is wall - instant.
function wallClockOf(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {}
  for (const part of formatterFor(timeZone).formatToParts(instant))
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  const ms = ((instant % 1000) + 1000) % 1000
  return (
    Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!) + ms
  )
}

// Window edges repeat from one call to the next: remembering them keeps a call per second cheap.
const instants = new Map<string, number>()
const MAX_INSTANTS_KEPT = 4096

// The first instant whose wall clock reads `wall` or later: a time skipped by a spring-forward starts at the
// jump; a time repeated by a fall-back is its first occurrence.
function instantOfWallClock(wall: number, timeZone: string): number {
  const key = `${timeZone} ${wall}`
  let instant = instants.get(key)
  if (instant === undefined) {
    if (instants.size >= MAX_INSTANTS_KEPT) instants.clear()
    instant = findInstantOfWallClock(wall, timeZone)
    instants.set(key, instant)
  }
  return instant
}

function findInstantOfWallClock(wall: number, timeZone: string): number {
  const found: number[] = []
  for (const probe of [wall - OFFSET_SPAN_MS, wall + OFFSET_SPAN_MS]) {
    const candidate = wall - (wallClockOf(probe, timeZone) - probe)
    if (wallClockOf(candidate, timeZone) === wall) found.push(candidate)
  }
  if (found.length > 0) return Math.min(...found)
  // In a gap: search for the instant the wall clock jumps past `wall`.
  let low = wall - OFFSET_SPAN_MS
  let high = wall + OFFSET_SPAN_MS
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2)
    if (wallClockOf(middle, timeZone) >= wall) high = middle
    else low = middle
  }
  return high
}

interface Occurrence {
  index: number
  from: number
  to: number
}

// The window's runs starting on the local days from..to days away from `wall`'s day.
function occurrencesOf(
  window: ScheduleWindow,
  index: number,
  wall: number,
  from: number,
  to: number,
  timeZone: string,
): Occurrence[] {
  const midnight = Math.floor(wall / DAY_MS) * DAY_MS
  const runs: Occurrence[] = []
  for (let offset = from; offset <= to; offset++) {
    const day = midnight + offset * DAY_MS
    if (window.days !== null && !window.days.includes(new Date(day).getUTCDay())) continue
    // A window whose end is not after its start runs into the next day.
    const endDay = window.end > window.start ? day : day + DAY_MS
    runs.push({
      index,
      from: instantOfWallClock(day + window.start * MINUTE_MS, timeZone),
      to: instantOfWallClock(endDay + window.end * MINUTE_MS, timeZone),
    })
  }
  return runs
}

function activeAt(runs: readonly Occurrence[], instant: number): number[] {
  const active = new Set<number>()
  for (const run of runs) if (run.from <= instant && instant < run.to) active.add(run.index)
  return [...active].sort((a, b) => a - b)
}

// Which windows are on at `now` (ms), what they set (a later-listed window wins per group), and the next
// instant the set of active windows changes. Days and times are read on the wall clock of `timeZone`
// (the process's own zone by default), so a window keeps its local times across DST changes.
export function activeOverrides(
  windows: readonly ScheduleWindow[],
  now: number,
  timeZone: string = localTimeZone(),
): ActiveOverrides {
  const wall = wallClockOf(now, timeZone)
  // Yesterday's runs may wrap into today; every day list starts a run within the next 7 days.
  const runs = windows.flatMap((window, index) => occurrencesOf(window, index, wall, -1, 8, timeZone))
  // Runs starting after day 8 are not listed, so the set is known only up to day 9's midnight.
  const known = instantOfWallClock(Math.floor(wall / DAY_MS) * DAY_MS + 9 * DAY_MS, timeZone)
  const active = activeAt(runs, now)
  const overrides: Record<string, string> = {}
  for (const index of active) Object.assign(overrides, windows[index]!.entries)
  const edges = [...new Set(runs.flatMap((run) => [run.from, run.to]))]
    .filter((edge) => edge > now && edge < known)
    .sort((a, b) => a - b)
  const key = active.join(',')
  const nextChangeAt = edges.find((edge) => activeAt(runs, edge).join(',') !== key) ?? null
  return { overrides, active, nextChangeAt }
}
