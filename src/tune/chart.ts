import { type UslModel, predictThroughput } from './usl.js'

// Pictures of a search: a chart and a table for the terminal, an SVG to keep.

export type ChartProbe = {
  workers: number
  jobsPerSecond: number
  spread?: number
  guardTripped?: string
  load?: number
  memAvailable?: number
  seconds?: number
}

export type ChartModel = Pick<UslModel, 'x1' | 'alpha' | 'beta'> & Partial<Pick<UslModel, 'peak' | 'r2'>>

export type ChartOptions = { width?: number; height?: number; model?: ChartModel }

const MARK_PROBE = '●'
const MARK_BEST = '◆'
const MARK_OVER = '×'
const MARK_MODEL = '·'

// Every line is at most width characters, each character one column wide.
export function renderChart(
  probes: readonly ChartProbe[],
  best: number,
  options: ChartOptions = {},
): string[] {
  const width = Math.max(options.width ?? 80, 30)
  const height = Math.max(options.height ?? 12, 4)
  if (probes.length === 0) return ['(no probes)']
  const labelWidth = 6
  const plotWidth = width - labelWidth - 2
  const [xLo, xHi] = spanOf(probes.map((p) => p.workers))
  const model = options.model
  const modelTop = model ? Math.max(...sampleCurve(model, xLo, xHi, 50).map((s) => s.y)) : 0
  const yTicks = niceTicks(
    Math.max(...probes.map((p) => p.jobsPerSecond), modelTop, 1e-9),
    Math.ceil(height / 3),
    false,
  )
  const yTop = yTicks[yTicks.length - 1]
  const grid = Array.from({ length: height }, () => new Array<string>(plotWidth).fill(' '))
  const column = (n: number) => Math.round(((n - xLo) / (xHi - xLo)) * (plotWidth - 1))
  const row = (y: number) => Math.min(height - 1, Math.max(0, Math.round((1 - y / yTop) * (height - 1))))
  const labels = new Array<string>(height).fill('')
  for (const t of yTicks) labels[row(t)] = formatTick(t, yTicks[1])
  if (model) {
    for (let c = 0; c < plotWidth; c++) {
      grid[row(predictThroughput(model, xLo + (c / (plotWidth - 1)) * (xHi - xLo)))][c] = MARK_MODEL
    }
  }
  const bestProbe = pickBestProbe(probes, best)
  if (bestProbe) {
    for (let r = row(bestProbe.jobsPerSecond) + 1; r < height; r++) grid[r][column(best)] = '┊'
  }
  for (const p of probes)
    grid[row(p.jobsPerSecond)][column(p.workers)] = p.guardTripped ? MARK_OVER : MARK_PROBE
  if (bestProbe) grid[row(bestProbe.jobsPerSecond)][column(best)] = MARK_BEST
  const lines = [`${' '.repeat(labelWidth)}  jobs/s`]
  grid.forEach((cells, r) => {
    const label = labels[r].padStart(labelWidth)
    lines.push(`${label} ┤${cells.join('')}`.trimEnd())
  })
  const axis = new Array<string>(plotWidth).fill('─')
  for (const p of probes) axis[column(p.workers)] = '┬'
  lines.push(`${' '.repeat(labelWidth)} └${axis.join('')}`)
  lines.push(`${' '.repeat(labelWidth + 2)}${placeTickLabels(probes, best, column, plotWidth)}`.trimEnd())
  const legend = [
    `${MARK_BEST} best: ${best} workers`,
    `${MARK_PROBE} probe`,
    ...(probes.some((p) => p.guardTripped) ? [`${MARK_OVER} over a limit`] : []),
    ...(model ? [`${MARK_MODEL} USL fit`] : []),
  ]
  return [...lines, ...wrapWords(['workers ', ...legend], labelWidth + 2, width)]
}

export function renderTable(probes: readonly ChartProbe[], best: number): string[] {
  const header = ['workers', 'jobs/s', '±', 'load', 'mem free', 'time', '']
  const rows = [...probes]
    .sort((a, b) => a.workers - b.workers)
    .map((p) => [
      String(p.workers),
      formatRate(p.jobsPerSecond),
      p.spread === undefined ? '' : formatRate(p.spread),
      p.load === undefined ? '' : p.load.toFixed(2),
      p.memAvailable === undefined ? '' : formatBytes(p.memAvailable),
      p.seconds === undefined ? '' : `${Math.round(p.seconds)}s`,
      p.guardTripped ? `over ${p.guardTripped}` : p.workers === best ? '← best' : '',
    ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd()
  return [
    format(header),
    format(widths.map((w, i) => (i === widths.length - 1 ? '' : '─'.repeat(w)))),
    ...rows.map(format),
  ]
}

const SVG_WIDTH = 640
const SVG_HEIGHT = 400
const MARGIN = { left: 64, right: 32, top: 44, bottom: 60 }

export function renderSvg(probes: readonly ChartProbe[], best: number, model?: ChartModel): string {
  const plotW = SVG_WIDTH - MARGIN.left - MARGIN.right
  const plotH = SVG_HEIGHT - MARGIN.top - MARGIN.bottom
  const [, xHi] = probes.length ? spanOf(probes.map((p) => p.workers)) : [0, 1]
  const xTicks = niceTicks(xHi, 10, true)
  const xTop = xTicks[xTicks.length - 1]
  const curve = model ? sampleCurve(model, 0, xTop, 120) : []
  const yMax = Math.max(...probes.map((p) => p.jobsPerSecond), ...curve.map((s) => s.y), 1e-9)
  const yTicks = niceTicks(yMax, 6, false)
  const yTop = yTicks[yTicks.length - 1]
  const sx = (n: number) => MARGIN.left + (n / xTop) * plotW
  const sy = (y: number) => MARGIN.top + plotH - (y / yTop) * plotH
  const out: string[] = []
  const add = (line: string) => out.push(line)
  add(`<?xml version="1.0" encoding="UTF-8"?>`)
  add(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SVG_WIDTH}" height="${SVG_HEIGHT}" viewBox="0 0 ${SVG_WIDTH} ${SVG_HEIGHT}" font-family="sans-serif" font-size="12">`,
  )
  add(`<rect x="0" y="0" width="${SVG_WIDTH}" height="${SVG_HEIGHT}" fill="#ffffff"/>`)
  add(
    `<text x="${SVG_WIDTH / 2}" y="24" text-anchor="middle" font-size="15">Throughput by worker count</text>`,
  )
  for (const t of yTicks) {
    add(
      `<line x1="${MARGIN.left}" y1="${f(sy(t))}" x2="${MARGIN.left + plotW}" y2="${f(sy(t))}" stroke="#e5e5e5"/>`,
    )
    add(
      `<text x="${MARGIN.left - 8}" y="${f(sy(t) + 4)}" text-anchor="end">${formatTick(t, yTicks[1])}</text>`,
    )
  }
  for (const t of xTicks) {
    const x = f(sx(t))
    add(
      `<line x1="${x}" y1="${MARGIN.top + plotH}" x2="${x}" y2="${MARGIN.top + plotH + 5}" stroke="#333333"/>`,
    )
    add(`<text x="${x}" y="${MARGIN.top + plotH + 19}" text-anchor="middle">${t}</text>`)
  }
  add(
    `<path d="M${MARGIN.left},${MARGIN.top} V${MARGIN.top + plotH} H${MARGIN.left + plotW}" fill="none" stroke="#333333"/>`,
  )
  add(`<text x="${MARGIN.left + plotW / 2}" y="${SVG_HEIGHT - 22}" text-anchor="middle">workers</text>`)
  add(
    `<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">jobs per second</text>`,
  )
  if (curve.length) {
    const points = curve.map((s) => `${f(sx(s.x))},${f(sy(s.y))}`).join(' ')
    add(
      `<polyline points="${points}" fill="none" stroke="#7a9cc6" stroke-width="1.5" stroke-dasharray="5 3"/>`,
    )
  }
  const bestProbe = pickBestProbe(probes, best)
  if (bestProbe) {
    const x = f(sx(best))
    add(
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e07b00" stroke-dasharray="3 3"/>`,
    )
  }
  for (const p of probes) {
    const x = sx(p.workers)
    const y = sy(p.jobsPerSecond)
    if (p.guardTripped) {
      add(
        `<path d="M${f(x - 5)},${f(y - 5)} L${f(x + 5)},${f(y + 5)} M${f(x - 5)},${f(y + 5)} L${f(x + 5)},${f(y - 5)}" stroke="#c62828" stroke-width="2"/>`,
      )
    } else {
      add(`<circle cx="${f(x)}" cy="${f(y)}" r="4" fill="#1f5fa8"/>`)
    }
  }
  if (bestProbe) {
    const x = sx(best)
    const y = sy(bestProbe.jobsPerSecond)
    add(`<circle cx="${f(x)}" cy="${f(y)}" r="8" fill="none" stroke="#e07b00" stroke-width="2.5"/>`)
    const label = `best: ${best} workers, ${formatRate(bestProbe.jobsPerSecond)} jobs/s`
    const anchor = x > MARGIN.left + plotW * 0.6 ? 'end' : 'start'
    const dx = anchor === 'end' ? -12 : 12
    add(
      `<text x="${f(x + dx)}" y="${f(Math.max(MARGIN.top + 12, y - 12))}" text-anchor="${anchor}" fill="#b35f00">${escapeXml(label)}</text>`,
    )
  }
  drawLegend(
    add,
    probes.some((p) => p.guardTripped),
    model,
  )
  add(`</svg>`)
  return out.join('\n') + '\n'
}

// One line under the axis label: each mark with its meaning, then the fitted parameters.
function drawLegend(add: (line: string) => void, anyOver: boolean, model: ChartModel | undefined): void {
  const y = SVG_HEIGHT - 6
  let x = MARGIN.left
  add(`<circle cx="${x + 4}" cy="${y - 4}" r="4" fill="#1f5fa8"/>`)
  add(`<text x="${x + 12}" y="${y}">probe</text>`)
  x += 56
  add(`<circle cx="${x + 6}" cy="${y - 4}" r="6" fill="none" stroke="#e07b00" stroke-width="2"/>`)
  add(`<text x="${x + 16}" y="${y}">best</text>`)
  x += 52
  if (anyOver) {
    add(
      `<path d="M${x},${y - 8} L${x + 8},${y} M${x},${y} L${x + 8},${y - 8}" stroke="#c62828" stroke-width="2"/>`,
    )
    add(`<text x="${x + 12}" y="${y}">over a limit</text>`)
    x += 92
  }
  if (!model) return
  add(
    `<line x1="${x}" y1="${y - 4}" x2="${x + 20}" y2="${y - 4}" stroke="#7a9cc6" stroke-width="1.5" stroke-dasharray="5 3"/>`,
  )
  const peak =
    model.peak === undefined ? '' : `, peak ${Number.isFinite(model.peak) ? model.peak.toFixed(1) : '∞'}`
  const r2 = model.r2 === undefined ? '' : `, r² ${model.r2.toFixed(3)}`
  const text = `USL fit: α ${model.alpha.toFixed(3)}, β ${model.beta.toExponential(2)}${peak}${r2}`
  add(`<text x="${x + 26}" y="${y}">${escapeXml(text)}</text>`)
}

function pickBestProbe(probes: readonly ChartProbe[], best: number): ChartProbe | undefined {
  const candidates = probes.filter((p) => p.workers === best && !p.guardTripped)
  if (candidates.length === 0) return undefined
  return candidates.reduce((a, b) => (b.jobsPerSecond > a.jobsPerSecond ? b : a))
}

// Labels the best count first, then the others left to right wherever they fit.
function placeTickLabels(
  probes: readonly ChartProbe[],
  best: number,
  column: (n: number) => number,
  plotWidth: number,
): string {
  const cells = new Array<string>(plotWidth + 4).fill(' ')
  const taken = new Array<boolean>(plotWidth + 4).fill(false)
  const counts = [...new Set([best, ...probes.map((p) => p.workers).sort((a, b) => a - b)])]
  for (const n of counts) {
    const text = String(n)
    const start = Math.max(
      0,
      Math.min(plotWidth - text.length, column(n) - Math.floor((text.length - 1) / 2)),
    )
    const span = [start - 1, start + text.length]
    let free = true
    for (let i = Math.max(0, span[0]); i <= Math.min(span[1], taken.length - 1); i++)
      if (taken[i]) free = false
    if (!free) continue
    for (let i = 0; i < text.length; i++) {
      cells[start + i] = text[i]
      taken[start + i] = true
    }
  }
  return cells.slice(0, plotWidth).join('')
}

function wrapWords(words: string[], indent: number, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of words) {
    const next = line ? `${line}   ${word}` : word
    if (line && indent + [...next].length > width) {
      lines.push(' '.repeat(indent) + line)
      line = word
    } else line = next
  }
  if (line) lines.push(' '.repeat(indent) + line)
  return lines
}

function spanOf(values: number[]): [number, number] {
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  return hi > lo ? [lo, hi] : [lo, lo + 1]
}

function sampleCurve(model: ChartModel, from: number, to: number, steps: number): { x: number; y: number }[] {
  return Array.from({ length: steps + 1 }, (_, i) => {
    const x = from + ((to - from) * i) / steps
    return { x, y: Math.max(0, predictThroughput(model, x)) }
  })
}

function niceStep(range: number, count: number): number {
  const raw = range / Math.max(count, 1)
  const power = 10 ** Math.floor(Math.log10(raw))
  const fraction = raw / power
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
}

// Ticks from 0 through the first tick at or above max; whole numbers when integer is set.
function niceTicks(max: number, count: number, integer: boolean): number[] {
  const step = integer ? Math.max(1, Math.ceil(niceStep(max, count))) : niceStep(max, count)
  const ticks: number[] = []
  for (let i = 0; ; i++) {
    const t = Number((i * step).toPrecision(12))
    ticks.push(t)
    if (t >= max - 1e-9 && i > 0) break
  }
  return ticks
}

function formatTick(value: number, step: number): string {
  return value.toFixed(Math.max(0, -Math.floor(Math.log10(step))))
}

function formatRate(value: number): string {
  if (value >= 100) return value.toFixed(0)
  if (value >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

function formatBytes(bytes: number): string {
  const gib = bytes / 2 ** 30
  if (gib >= 1) return `${gib.toFixed(1)} GiB`
  return `${Math.round(bytes / 2 ** 20)} MiB`
}

function f(value: number): string {
  return Number(value.toFixed(1)).toString()
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
