import { RE2JS } from 're2js'
import { EXIT_FAILURE, RpdError, usageError } from '../errors.js'
import { LogReader, follow, logSize, readLastLines } from '../state/log-tail.js'
import { findMaster } from '../state/master-pid.js'
import type { Print } from './pool-wait.js'
import { isAlive } from '../proc/process-identity.js'
import { inspectStateDir, statePaths } from '../state/state-dir.js'

export const DEFAULT_LOG_LINES = 20

export interface LogsOptions {
  lines?: number
  follow?: boolean
  until?: string | RegExp
  timeoutMs?: number
  signal?: AbortSignal
}

export interface LineMatcher {
  test(line: string): boolean
}

// Compiles an --until pattern for a linear-time engine (RE2): a pattern such as (a+)+$ cannot stall the
// follower, whatever the log holds. RE2 has no lookaround or backreferences; such a pattern is refused.
export function compileUntil(pattern: string | RegExp): LineMatcher {
  const source = typeof pattern === 'string' ? pattern : pattern.source
  const flags = typeof pattern === 'string' ? 0 : re2Flags(pattern.flags)
  try {
    const re = RE2JS.compile(source, flags)
    return { test: (line) => re.matcher(line).find() }
  } catch (error) {
    throw usageError(
      `bad --until pattern ${JSON.stringify(source)}: ${(error as Error).message.replace(/^error parsing regexp: /, '')} (lookaround and backreferences are not supported)`,
    )
  }
}

function re2Flags(flags: string): number {
  return (
    (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) |
    (flags.includes('m') ? RE2JS.MULTILINE : 0) |
    (flags.includes('s') ? RE2JS.DOTALL : 0)
  )
}

// `logs --until` found nothing in time: the same words from the CLI, the shell and Pool.logs().
export function noMatchError(
  until: string | RegExp | undefined,
  timeoutSeconds: number | undefined,
): RpdError {
  const pattern = typeof until === 'string' ? JSON.stringify(until) : String(until)
  return new RpdError(`no line matched ${pattern} within ${timeoutSeconds ?? 0} s`, EXIT_FAILURE, 'TIMEOUT')
}

// Prints the last lines of master.log; with follow, goes on until the master exits (or the signal aborts);
// with until, until a shown line matches. Returns false when until timed out without a match.
export async function showLogs(dir: string, options: LogsOptions, print: Print): Promise<boolean> {
  const until = options.until === undefined ? undefined : compileUntil(options.until)
  const paths = statePaths(dir)
  if (!inspectStateDir(dir))
    throw new RpdError(`no state directory at ${dir}: start a pool with rpd start, or pass --state-dir`)
  const offset = logSize(paths.log)
  const tail = readLastLines(paths.log, options.lines ?? DEFAULT_LOG_LINES)
  tail.forEach((line) => print(line))
  if (until && tail.some((line) => until.test(line))) return true
  if (!options.follow && !until) return true
  const lookup = findMaster(paths)
  const master = lookup.running ? lookup.master : undefined
  const reader = new LogReader(paths.log, offset)
  let matched = false
  try {
    const outcome = await follow({
      dir,
      reader,
      signal: options.signal,
      timeoutMs: until ? options.timeoutMs : undefined,
      onLine: (line) => {
        if (matched) return
        print(line)
        if (until?.test(line)) matched = true
      },
      check: () => (matched ? true : !until && (!master || !isAlive(master)) ? true : undefined),
    })
    return until ? matched || outcome.result === true : true
  } finally {
    reader.close()
  }
}
