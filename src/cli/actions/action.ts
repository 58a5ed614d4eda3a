import { checkTimeoutMs } from '../../client/timeout.js'
import type { ProgressStream } from '../../present/progress.js'
// What a command does once its flags are parsed, shared by the oclif command and bin/run.js's fast path.
export interface ActionInput {
  argv: string[]
  // Parsed flags by their long names (`no-wait`, `state-dir`), defaults applied.
  flags: Record<string, unknown>
  // The resolved state directory.
  dir: string
  print: (line: string) => void
  // Where a live progress line may be drawn (stdout, when it is a terminal).
  terminal?: ProgressStream
}

// Returns the exit code (undefined for 0); expected failures throw RpdError.
export type Action = (input: ActionInput) => Promise<number | undefined>

export function flagString(flags: Record<string, unknown>, name: string): string | undefined {
  const value = flags[name]
  return typeof value === 'string' ? value : undefined
}

// The fleet's Redis: --redis, else REDIS_URL, else the local default.
export function fleetRedis(flags: Record<string, unknown>): string {
  return flagString(flags, 'redis') ?? (process.env.REDIS_URL || 'redis://127.0.0.1:6379')
}

export function flagNumber(flags: Record<string, unknown>, name: string): number {
  return Number(flags[name])
}

// A seconds flag as milliseconds, refused (exit 2) beyond what a timer can wait.
export function flagTimeoutMs(flags: Record<string, unknown>, name = 'timeout'): number {
  return checkTimeoutMs(flagNumber(flags, name) * 1000, `--${name} ${String(flags[name])}`)
}

// Aborts when the user presses ^C, so a wait can end cleanly with a message instead of a dead process.
export function abortOnInterrupt(): AbortSignal {
  const abort = new AbortController()
  // The listener stays: a first ^C ends the wait cleanly (restoring what it must), a second leaves at once.
  process.on('SIGINT', () => (abort.signal.aborted ? process.exit(130) : abort.abort()))
  return abort.signal
}
