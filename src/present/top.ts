import { type Style, displayWidth, fitToWidth, paint, sanitizeText, truncateToWidth } from './terminal.js'

// One frame of `rpd top`, pure: the caller gathers a TopView each second and writes the lines with formatFrame.

export interface TopWorker {
  pid: number
  // As shown: busy, idle, starting, stopping, backoff, ...
  state: string
  job: { class: string; runningSeconds: number } | null
  rssBytes: number | null
  cpuPercent: number | null
}

export interface TopGroup {
  name: string
  current: number
  desired: number
  // Present for automatic groups; a group without them is fixed.
  min?: number
  max?: number
  // One sample per refresh interval, oldest first; the last is the current value.
  jobsPerSecond: readonly number[]
  latencySeconds: readonly (number | null)[]
  workers: readonly TopWorker[]
}

export interface TopDecision {
  // Milliseconds since the epoch; shown as its age against TopView.now.
  at: number
  // autoscale, guard, schedule, manual, ...
  kind: string
  text: string
}

export interface TopView {
  now: number
  pool: { state: string; pid: number | null; uptimeSeconds: number | null; paused: boolean }
  groups: readonly TopGroup[]
  queues: readonly { name: string; depth: number; latencySeconds: number | null }[]
  // Oldest first, as they happened; the newest few are shown.
  decisions: readonly TopDecision[]
  // Feedback on the last key (`images: 4 → 5`), shown above the key help.
  message?: string
}

export interface TopSize {
  columns: number
  rows: number
}

export interface TopUi {
  // Index into TopView.groups of the group the scale keys act on.
  selected: number
  colour?: boolean
}

export const KEY_HELP = '↑↓ select  +/- scale  q quit'
export const SPARK_CHARS = '▁▂▃▄▅▆▇█'
const DECISIONS_FIRST = 3
const DECISIONS_MAX = 5
const SPARK_MAX_WIDTH = 30
const NAME_MIN_WIDTH = 6
const NAME_MAX_WIDTH = 24
// Columns of a group row besides the name and the two sparklines: marker, workers, bounds, rate, latency.
const GROUP_FIXED_WIDTH = 2 + 1 + 7 + 1 + 9 + 1 + 7 + 1 + 6
const WORKER_FIXED_WIDTH = 4 + 7 + 1 + 9 + 1 + 1 + 7 + 1 + 6 + 1 + 5

// Exactly size.rows lines, none wider than size.columns cells, none ending in spaces.
export function renderTop(view: TopView, size: TopSize, ui: TopUi): string[] {
  const columns = Math.max(0, Math.floor(size.columns))
  const rows = Math.max(0, Math.floor(size.rows))
  const colour = ui.colour === true
  if (rows === 0) return []
  const header = paint(fitLine(formatHeader(view), columns), 'bold', colour)
  if (rows === 1) return [header]
  const bottom = [paint(fitLine(KEY_HELP, columns), 'dim', colour)]
  if (view.message !== undefined && rows >= 4) bottom.unshift(fitLine(view.message, columns))
  const middle = layoutMiddle(view, columns, rows - 1 - bottom.length, ui.selected, colour)
  const blank = Array.from({ length: rows - 1 - bottom.length - middle.length }, () => '')
  return [header, ...middle, ...blank, ...bottom]
}

function formatHeader(view: TopView): string {
  const { pool } = view
  const workers = view.groups.reduce((sum, group) => sum + group.current, 0)
  const parts = ['rpd top', pool.state]
  if (pool.pid !== null) parts.push(`pid ${pool.pid}`)
  if (pool.uptimeSeconds !== null) parts.push(`up ${formatDuration(pool.uptimeSeconds)}`)
  parts.push(`${view.groups.length} ${view.groups.length === 1 ? 'group' : 'groups'}`)
  parts.push(`${workers} ${workers === 1 ? 'worker' : 'workers'}`)
  if (pool.paused) parts.push('PAUSED')
  return parts.join('  ')
}

interface Widths {
  name: number
  spark: number
  job: number
}

// Fills at most `available` rows: group rows first, then queues, a few decisions, workers, more decisions.
function layoutMiddle(
  view: TopView,
  columns: number,
  available: number,
  selected: number,
  colour: boolean,
): string[] {
  if (available <= 0) return []
  const widths = chooseWidths(view, columns)
  const groups = view.groups
  const chosen = groups.length ? Math.min(Math.max(0, Math.floor(selected)), groups.length - 1) : -1
  const tableHeader = paint(fitLine(formatGroupHeader(widths), columns), 'bold', colour)
  if (groups.length === 0) return [tableHeader, fitLine('  (no groups)', columns)].slice(0, available)
  if (1 + groups.length > available) {
    const room = Math.max(1, available - 1)
    const first = Math.min(Math.max(0, chosen - Math.floor(room / 2)), groups.length - room)
    const rowsShown = groups
      .slice(first, first + room)
      .map((group, i) => formatGroupRow(group, first + i === chosen, widths, columns, colour))
    return (available > 1 ? [tableHeader, ...rowsShown] : rowsShown).slice(0, available)
  }
  let left = available - 1 - groups.length
  const queueLine = view.queues.length && left > 0 ? [fitLine(formatQueues(view.queues), columns)] : []
  left -= queueLine.length
  const decisionsWanted = Math.min(DECISIONS_MAX, view.decisions.length)
  let decisionCount = Math.min(DECISIONS_FIRST, decisionsWanted, Math.max(0, left - 1))
  left -= decisionCount ? decisionCount + 1 : 0
  const workerCap = chooseWorkerCap(groups, left)
  left -= workerCap.total
  if (decisionCount) decisionCount = Math.min(decisionsWanted, decisionCount + left)
  else if (decisionsWanted && left >= 2) decisionCount = Math.min(decisionsWanted, left - 1)

  const lines = [tableHeader]
  groups.forEach((group, index) => {
    lines.push(formatGroupRow(group, index === chosen, widths, columns, colour))
    const shown = Math.min(group.workers.length, workerCap.perGroup)
    const cut = group.workers.length > shown
    for (const worker of group.workers.slice(0, cut ? shown - 1 : shown))
      lines.push(formatWorkerRow(worker, widths, columns, colour))
    if (cut && shown > 0) lines.push(fitLine(`    … ${group.workers.length - shown + 1} more`, columns))
  })
  lines.push(...queueLine)
  if (decisionCount) {
    lines.push(paint(fitLine('RECENT DECISIONS', columns), 'bold', colour))
    const newest = view.decisions.slice(-decisionCount).reverse()
    for (const decision of newest) lines.push(fitLine(formatDecision(decision, view.now), columns))
  }
  return lines.slice(0, available)
}

// The most worker rows per group that fit in `room` lines.
function chooseWorkerCap(groups: readonly TopGroup[], room: number): { perGroup: number; total: number } {
  const most = Math.max(0, ...groups.map((group) => group.workers.length))
  for (let cap = most; cap > 0; cap--) {
    const total = groups.reduce((sum, group) => sum + Math.min(group.workers.length, cap), 0)
    if (total <= room) return { perGroup: cap, total }
  }
  return { perGroup: 0, total: 0 }
}

function chooseWidths(view: TopView, columns: number): Widths {
  const longest = Math.max(0, ...view.groups.map((group) => displayWidth(sanitizeText(group.name))))
  let name = Math.min(NAME_MAX_WIDTH, Math.max(NAME_MIN_WIDTH, longest))
  name = Math.max(4, Math.min(name, columns - GROUP_FIXED_WIDTH))
  const spare = columns - GROUP_FIXED_WIDTH - name
  const spark = spare >= 2 * 5 ? Math.min(SPARK_MAX_WIDTH, Math.floor(spare / 2) - 1) : 0
  const job = Math.max(6, Math.min(40, columns - WORKER_FIXED_WIDTH))
  return { name, spark, job }
}

function formatGroupHeader(widths: Widths): string {
  const spark = (title: string) => (widths.spark ? `${fitToWidth(title, widths.spark)} ` : '')
  return [
    '  ',
    fitToWidth('GROUP', widths.name),
    ' ',
    fitToWidth('WORKERS', 7),
    ' ',
    fitToWidth('BOUNDS', 9),
    ' ',
    spark('JOBS/S'),
    fitToWidth(widths.spark ? '' : 'JOBS/S', 7, 'right'),
    ' ',
    spark('LATENCY'),
    fitToWidth(widths.spark ? '' : 'LAT', 6, 'right'),
  ].join('')
}

function formatGroupRow(
  group: TopGroup,
  selected: boolean,
  widths: Widths,
  columns: number,
  colour: boolean,
): string {
  const rate = group.jobsPerSecond.length ? group.jobsPerSecond[group.jobsPerSecond.length - 1] : null
  const latency = group.latencySeconds.length ? group.latencySeconds[group.latencySeconds.length - 1] : null
  const segments: Segment[] = [
    { text: `${selected ? '> ' : '  '}${fitToWidth(sanitizeText(group.name), widths.name)} ` },
    {
      text: fitToWidth(`${group.current}/${group.desired}`, 7),
      style: group.current === group.desired ? undefined : 'yellow',
    },
    { text: ` ${fitToWidth(formatBounds(group), 9)} ` },
    { text: widths.spark ? `${sparkline(group.jobsPerSecond, widths.spark)} ` : '', style: 'cyan' },
    { text: `${fitToWidth(formatRate(rate), 7, 'right')} ` },
    { text: widths.spark ? `${sparkline(group.latencySeconds, widths.spark)} ` : '', style: 'cyan' },
    { text: fitToWidth(formatSeconds(latency), 6, 'right') },
  ]
  if (selected)
    return paint(fitLine(segments.map((segment) => segment.text).join(''), columns), 'inverse', colour)
  return fitSegments(segments, columns, colour)
}

function formatWorkerRow(worker: TopWorker, widths: Widths, columns: number, colour: boolean): string {
  const state = sanitizeText(worker.state)
  const cpu = worker.cpuPercent === null ? '-' : `${Math.round(worker.cpuPercent)}%`
  const segments: Segment[] = [
    { text: `    ${fitToWidth(String(worker.pid), 7)} ` },
    { text: fitToWidth(state, 9), style: stateStyle(state) },
    { text: ` ${fitToWidth(worker.job ? sanitizeText(worker.job.class) : '-', widths.job)} ` },
    { text: fitToWidth(worker.job ? formatDuration(worker.job.runningSeconds) : '', 7, 'right') },
    { text: ` ${fitToWidth(formatBytes(worker.rssBytes), 6, 'right')} ${fitToWidth(cpu, 5, 'right')}` },
  ]
  return fitSegments(segments, columns, colour)
}

function stateStyle(state: string): Style {
  if (state === 'busy') return 'green'
  if (state === 'backoff' || state === 'stopping') return 'red'
  if (state === 'starting') return 'yellow'
  return 'dim'
}

function formatQueues(queues: TopView['queues']): string {
  const deepest = [...queues].sort((a, b) => b.depth - a.depth)
  const parts = deepest.map((queue) => {
    const age =
      queue.latencySeconds !== null && queue.depth > 0 ? ` (${formatSeconds(queue.latencySeconds)})` : ''
    return `${sanitizeText(queue.name)} ${queue.depth}${age}`
  })
  return `QUEUES  ${parts.join('  ')}`
}

function formatDecision(decision: TopDecision, now: number): string {
  const age = fitToWidth(`${formatDuration(Math.max(0, (now - decision.at) / 1000))} ago`, 10, 'right')
  return `  ${age}  ${fitToWidth(sanitizeText(decision.kind), 9)} ${sanitizeText(decision.text)}`
}

function formatBounds(group: TopGroup): string {
  if (group.min === undefined && group.max === undefined) return 'fixed'
  return `${group.min ?? 0}..${group.max ?? '∞'}`
}

// Bars ▁..█ for the last `width` values, scaled to their largest (or to `max`); gaps are spaces and
// values before the series began pad the left, so the newest is always the rightmost bar.
export function sparkline(values: readonly (number | null)[], width: number, max?: number): string {
  const cells = Math.max(0, Math.floor(width))
  if (cells === 0) return ''
  const recent = values.slice(-cells)
  const finite = recent.filter((v): v is number => v !== null && Number.isFinite(v))
  const top = max ?? Math.max(0, ...finite)
  const bars = recent.map((value) => {
    if (value === null || !Number.isFinite(value)) return ' '
    if (value <= 0 || top <= 0) return SPARK_CHARS[0]
    // Any activity shows at least the second bar, so it never looks like none.
    const level = Math.min(7, Math.max(1, Math.ceil((value / top) * 7)))
    return SPARK_CHARS[level]
  })
  return ' '.repeat(cells - recent.length) + bars.join('')
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`
}

// A latency or wait: 450ms, 2.1s, 42s, 12m, 3h.
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-'
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)}s`
  if (seconds < 60) return `${Math.floor(seconds)}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`
  return `${Math.floor(seconds / 3600)}h`
}

export function formatRate(perSecond: number | null): string {
  if (perSecond === null || !Number.isFinite(perSecond)) return '-'
  if (perSecond === 0) return '0/s'
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`
  if (perSecond < 1000) return `${Math.round(perSecond)}/s`
  return `${(perSecond / 1000).toFixed(1)}k/s`
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes)) return '-'
  const units = ['B', 'K', 'M', 'G', 'T']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)}${units[unit]}`
}

interface Segment {
  text: string
  style?: Style
}

function fitLine(text: string, columns: number): string {
  return truncateToWidth(sanitizeText(text), columns).trimEnd()
}

// Cuts a line of styled pieces by its visible cells (as fitLine would), then paints each piece.
function fitSegments(segments: readonly Segment[], columns: number, colour: boolean): string {
  const plain = fitLine(segments.map((segment) => segment.text).join(''), columns)
  if (!colour) return plain
  let out = ''
  let offset = 0
  for (const segment of segments) {
    const piece = plain.slice(offset, offset + segment.text.length)
    offset += segment.text.length
    out += segment.style ? paint(piece, segment.style, true) : piece
  }
  // The ellipsis of a cut line lies past the pieces it replaced.
  return out + plain.slice(offset)
}
