import fs from 'node:fs'

// One log line: ISO-8601 UTC time, the source (master or a queue group) and its pid.
export function formatLogLine(source: string, pid: number, text: string, at: Date = new Date()): string {
  return `${at.toISOString()} ${source}[${pid}]: ${text}\n`
}

// The master's handle on master.log: appends whole lines in one write each, reopens on HUP (log rotation).
export class LogFile {
  private fd: number

  constructor(private readonly file: string) {
    this.fd = fs.openSync(file, 'a', 0o600)
  }

  write(source: string, pid: number, lines: readonly string[]): void {
    if (lines.length === 0) return
    const at = new Date()
    const text = lines.map((line) => formatLogLine(source, pid, line, at)).join('')
    try {
      fs.writeSync(this.fd, text)
    } catch {
      // A full or vanished disk must not take the pool down; the next reopen may recover.
    }
  }

  reopen(): void {
    const fd = fs.openSync(this.file, 'a', 0o600)
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
}

const LOG_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.+?)\[(\d+)\]: (.*)$/s

// Reads one line back; a line not in rpd's format (a fatal error Node itself printed) keeps its text whole.
export function parseLogLine(line: string): LogLine {
  const match = LOG_LINE.exec(line)
  if (!match) return { time: new Date(NaN), source: '', pid: 0, text: line }
  return { time: new Date(match[1]), source: match[2], pid: Number(match[3]), text: match[4] }
}
