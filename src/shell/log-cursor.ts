import { LogReader, follow, logSize, readLastLines } from '../state/log-tail.js'
import { findMaster } from '../state/master-pid.js'
import type { Print } from '../client/pool-wait.js'
import type { LineMatcher } from '../client/logs.js'
import { isAlive } from '../proc/process-identity.js'
import type { StatePaths } from '../state/state-dir.js'

export type FollowEnd = 'matched' | 'interrupted' | 'master exited'

// resque-pool-dynamic's log object (IO::Tail): a read position in master.log that log.tail, log.ff and log.rew move,
// so each log command goes on from where the last one stopped.
export class LogCursor {
  private reader: LogReader
  // Lines read past a log.tail_until match: the next log command shows them first.
  private held: string[] = []

  constructor(private readonly paths: StatePaths) {
    this.reader = new LogReader(paths.log, logSize(paths.log))
  }

  fastForward(): void {
    this.moveTo(logSize(this.paths.log))
  }

  rewind(): void {
    this.moveTo(0)
  }

  close(): void {
    this.reader.close()
  }

  // Prints from the cursor to the current end of the log; returns how many lines that was.
  printToEnd(print: Print): number {
    const lines = this.readNew()
    lines.forEach((line) => print(line))
    return lines.length
  }

  // Prints the last n lines and puts the cursor after them (a line written meanwhile may show twice, never not at all).
  printLast(n: number, print: Print): void {
    const offset = logSize(this.paths.log)
    readLastLines(this.paths.log, n).forEach((line) => print(line))
    this.moveTo(offset)
  }

  // Prints new lines as they come until ^C (the signal), a line matches `until`, or the master that ran at
  // the start exits (its last lines shown).
  async follow(print: Print, options: { signal: AbortSignal; until?: LineMatcher }): Promise<FollowEnd> {
    const lookup = findMaster(this.paths)
    const master = lookup.running ? lookup.master : undefined
    const drain = (): boolean => {
      const lines = this.readNew()
      for (let i = 0; i < lines.length; i++) {
        print(lines[i])
        if (options.until?.test(lines[i])) {
          this.held = lines.slice(i + 1)
          return true
        }
      }
      return false
    }
    const outcome = await follow<FollowEnd>({
      dir: this.paths.dir,
      signal: options.signal,
      check: () => {
        if (drain()) return 'matched'
        if (master && !isAlive(master)) return drain() ? 'matched' : 'master exited'
        return undefined
      },
    })
    return outcome.result ?? 'interrupted'
  }

  private readNew(): string[] {
    return [...this.held.splice(0), ...this.reader.read()]
  }

  private moveTo(offset: number): void {
    this.reader.close()
    this.reader = new LogReader(this.paths.log, offset)
    this.held = []
  }
}
