// A memory size as the user wrote it: an absolute amount, or a share of the host's MemTotal.
export type Size = { bytes: number } | { percent: number }

const MAX_TOKEN_SHOWN = 40
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
const DURATION_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 }
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i
const PERCENT = /^(\d+(?:\.\d+)?)\s*%$/
const SIZE_FACTORS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }

// Quotes a token for a message and cuts it short, so a huge argument still gives a one-line error.
export function showToken(token: string): string {
  const printable = JSON.stringify(token)
  return printable.length > MAX_TOKEN_SHOWN
    ? `${printable.slice(0, MAX_TOKEN_SHOWN)}…" (${token.length} chars)`
    : printable
}

function durationError(text: string): Error {
  return new Error(
    `bad duration ${showToken(text)}: use seconds (90) or a number with a unit ms, s, m or h (1500ms, 30s, 2m, 1h30m)`,
  )
}

// Reads `30s`, `2m`, `1h`, `1500ms`, `1m30s`, or a bare number of seconds; returns seconds.
export function parseDuration(text: string): number {
  const token = text.trim()
  if (/^\d+(\.\d+)?$/.test(token)) return Number(token)
  if (token === '') throw durationError(text)
  DURATION_PART.lastIndex = 0
  let seconds = 0
  let end = 0
  for (let part = DURATION_PART.exec(token); part; part = DURATION_PART.exec(token)) {
    seconds += Number(part[1]) * DURATION_SECONDS[part[2]!]!
    end = DURATION_PART.lastIndex
  }
  if (end !== token.length) throw durationError(text)
  return Math.round(seconds * 1000) / 1000
}

// Reads `500M`, `2G`, `512k`, `1.5GiB`, `1048576` (bytes) or `10%` (of MemTotal). Units are binary (1K = 1024).
export function parseSize(text: string): Size {
  const token = text.trim()
  const percent = PERCENT.exec(token)
  if (percent) {
    const value = Number(percent[1])
    if (value <= 0 || value > 100)
      throw new Error(`bad size ${showToken(text)}: a percentage must be above 0 and at most 100`)
    return { percent: value }
  }
  const size = SIZE.exec(token)
  if (!size)
    throw new Error(
      `bad size ${showToken(text)}: use bytes (1048576), a number with K, M, G or T (500M, 2G), or a percentage of memory (10%)`,
    )
  return { bytes: Math.round(Number(size[1]) * SIZE_FACTORS[size[2]!.toLowerCase()]!) }
}

// The bytes a size stands for on a host with totalBytes of memory.
export function resolveSize(size: Size, totalBytes: number): number {
  return 'bytes' in size ? size.bytes : Math.round((totalBytes * size.percent) / 100)
}

// Seconds as the shortest text parseDuration reads back: 0.25 -> 250ms, 90 -> 1m30s, 5400 -> 1h30m.
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return String(seconds)
  if (seconds < 1 && seconds > 0) return `${Math.round(seconds * 1000)}ms`
  let rest = Math.round(seconds)
  if (rest === 0) return '0s'
  let text = ''
  for (const [unit, size] of [
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const whole = Math.floor(rest / size)
    if (whole > 0) text += `${whole}${unit}`
    rest -= whole * size
  }
  return text
}

// Bytes in binary units, one decimal under 10 of a unit: 512 -> 512B, 1536 -> 1.5K, 524288000 -> 500M.
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 'B'
  for (const next of ['K', 'M', 'G', 'T']) {
    if (Math.abs(value) < 1024) break
    value /= 1024
    unit = next
  }
  const shown =
    unit === 'B' || Math.abs(value) >= 10 ? String(Math.round(value)) : String(Math.round(value * 10) / 10)
  return `${shown}${unit}`
}

// A size as the user would write it back: 10% or 500M.
export function formatSize(size: Size): string {
  return 'percent' in size ? `${size.percent}%` : formatBytes(size.bytes)
}
