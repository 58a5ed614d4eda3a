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
