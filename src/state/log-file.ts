import fs from 'node:fs'
import { APPEND_NOFOLLOW } from './atomic-file.js'
import { fileError } from './file-errors.js'

// master.log is opened for appending without following a symbolic link planted in its place.
export function openLogForAppend(file: string): number {
  try {
    return fs.openSync(file, APPEND_NOFOLLOW, 0o600)
  } catch (error) {
    throw fileError(file, error)
  }
}

export type LogFormat = 'text' | 'json'

// Extra fields a JSON line carries (a decision's inputs); text lines show only the text.
export type LogFields = Record<string, unknown>

// Decision lines name their kind first (`autoscale: images 2 -> 4 ...`); JSON lines carry it as a field too.
const DECISION = /^(autoscale|guard|schedule): /

// One log line: ISO-8601 UTC time, the source (master or a queue group) and its pid.
export function formatLogLine(source: string, pid: number, text: string, at: Date = new Date()): string {
  return `${at.toISOString()} ${source}[${pid}]: ${text}\n`
}

// The same entry as one JSON object on one line: {time, source, pid, text, ...fields}.
export function formatJsonLogLine(
  source: string,
  pid: number,
  text: string,
  at: Date = new Date(),
  fields: LogFields = {},
): string {
  const decision = DECISION.exec(text)?.[1]
  const entry = { time: at.toISOString(), source, pid, text, ...(decision ? { decision } : {}), ...fields }
  return `${JSON.stringify(entry)}\n`
}

// The master's handle on master.log: appends whole lines in one write each, reopens on HUP (log rotation).
export class LogFile {
  private fd: number

  constructor(
    private readonly file: string,
    private readonly format: LogFormat = 'text',
  ) {
    this.fd = openLogForAppend(file)
  }

  write(source: string, pid: number, lines: readonly string[], fields?: LogFields): void {
    if (lines.length === 0) return
    const at = new Date()
    const text = lines
      .map((line) =>
        this.format === 'json'
          ? formatJsonLogLine(source, pid, line, at, fields)
          : formatLogLine(source, pid, line, at),
      )
      .join('')
    try {
      fs.writeSync(this.fd, text)
    } catch {
      // A full or vanished disk must not take the pool down; the next reopen may recover.
    }
  }

  reopen(): void {
    const fd = openLogForAppend(this.file)
    fs.closeSync(this.fd)
    this.fd = fd
  }

  close(): void {
    fs.closeSync(this.fd)
  }
}

// A line of master.log, taken apart: when, who (`master` or a queue group) and what.
export interface LogLine {
  time: Date
  source: string
  pid: number
  text: string
  // The extra fields of a JSON line (a decision's), absent for text lines.
  fields?: LogFields
}

const LOG_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.+?)\[(\d+)\]: (.*)$/s

// Reads one line back, in either format; a line in neither (a fatal error Node itself printed) keeps its text.
export function parseLogLine(line: string): LogLine {
  if (line.startsWith('{')) {
    const entry = parseJsonEntry(line)
    if (entry) return entry
  }
  const match = LOG_LINE.exec(line)
  if (!match) return { time: new Date(NaN), source: '', pid: 0, text: line }
  return { time: new Date(match[1]), source: match[2], pid: Number(match[3]), text: match[4] }
}

function parseJsonEntry(line: string): LogLine | undefined {
  let entry: unknown
  try {
    entry = JSON.parse(line)
  } catch {
    return undefined
  }
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return undefined
  const { time, source, pid, text, ...fields } = entry as Record<string, unknown>
  if (typeof time !== 'string' || typeof source !== 'string' || typeof text !== 'string') return undefined
  const parsed: LogLine = { time: new Date(time), source, pid: Number(pid) || 0, text }
  return Object.keys(fields).length ? { ...parsed, fields } : parsed
}

// A parsed line as text, the way `rpd logs` shows both formats alike.
export function formatParsedLine(line: LogLine): string {
  if (Number.isNaN(line.time.getTime())) return line.text
  return formatLogLine(line.source, line.pid, line.text, line.time).slice(0, -1)
}

// A parsed line as one JSON object (`rpd logs --json`).
export function formatParsedJson(line: LogLine): string {
  if (Number.isNaN(line.time.getTime()))
    return JSON.stringify({ time: null, source: '', pid: 0, text: line.text })
  return formatJsonLogLine(line.source, line.pid, line.text, line.time, line.fields).slice(0, -1)
}
