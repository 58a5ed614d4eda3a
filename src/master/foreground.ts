import { type LogFields, type LogFormat, LogFile } from '../state/log-file.js'

// How `rpd run` differs from a detached master: what a process manager (systemd, foreman, a container) needs.
export interface MasterOptions {
  // Log lines go to stdout too, and TERM (what process managers send) stops workers gracefully.
  foreground?: boolean
}

// The environment variable master-main.js reads: set by `rpd run` for the master it runs.
export const FOREGROUND_ENV = 'RPD_FOREGROUND'

// master.log, with every line copied to stdout for the process manager's own log.
export class TeeLogFile extends LogFile {
  write(source: string, pid: number, lines: readonly string[], fields?: LogFields): void {
    super.write(source, pid, lines, fields)
    if (lines.length) process.stdout.write(lines.map((line) => `${source}[${pid}]: ${line}\n`).join(''))
  }
}

export function openMasterLog(file: string, options: MasterOptions, format?: LogFormat): LogFile {
  return options.foreground ? new TeeLogFile(file, format) : new LogFile(file, format)
}
