import { RE2JS } from 're2js'
import { EXIT_FAILURE, RpdError, usageError } from '../errors.js'
import { LogReader, follow, logSize, readLastMatching } from '../state/log-tail.js'
import { formatParsedJson, formatParsedLine, parseLogLine } from '../state/log-file.js'
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
  // Print each line as one JSON object (text lines too), else as text (JSON lines too).
  json?: boolean
  // Only lines whose text form matches this RE2 pattern, of this source (queue group or master), of this pid.
  grep?: string | RegExp
  group?: string
  pid?: number
}

export interface LineMatcher {
  test(line: string): boolean
}

// Compiles an --until pattern for a linear-time engine (RE2): a pattern such as (a+)+$ cannot stall the
// follower, whatever the log holds. RE2 has no lookaround or backreferences; such a pattern is refused.
export function compileUntil(pattern: string | RegExp): LineMatcher {
  return compilePattern(pattern, '--until')
}

export function compilePattern(pattern: string | RegExp, flag: string): LineMatcher {
  const source = typeof pattern === 'string' ? pattern : pattern.source
  const flags = typeof pattern === 'string' ? 0 : re2Flags(pattern.flags)
  try {
    const re = RE2JS.compile(source, flags)
    return { test: (line) => re.matcher(line).find() }
  } catch (error) {
    throw usageError(
      `bad ${flag} pattern ${JSON.stringify(source)}: ${(error as Error).message.replace(/^error parsing regexp: /, '')} (lookaround and backreferences are not supported)`,
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
  const shown = selectLines(options)
  const paths = statePaths(dir)
  if (!inspectStateDir(dir))
    throw new RpdError(`no state directory at ${dir}: start a pool with rpd start, or pass --state-dir`)
  const offset = logSize(paths.log)
  const tail = readLastMatching(
    paths.log,
    options.lines ?? DEFAULT_LOG_LINES,
    (line) => shown(line) !== undefined,
  ).lines.map((line) => shown(line)!)
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
      onLine: (raw) => {
        const line = shown(raw)
        if (matched || line === undefined) return
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

// A line as `rpd logs` shows it (text or JSON, whichever form it was written in), or undefined when filtered out.
export function selectLines(
  options: Pick<LogsOptions, 'json' | 'grep' | 'group' | 'pid'>,
): (line: string) => string | undefined {
  const grep = options.grep === undefined ? undefined : compilePattern(options.grep, '--grep')
  return (raw) => {
    const line = parseLogLine(raw)
    if (options.group !== undefined && line.source !== options.group) return undefined
    if (options.pid !== undefined && line.pid !== options.pid) return undefined
    const text = formatParsedLine(line)
    if (grep && !grep.test(text)) return undefined
    return options.json ? formatParsedJson(line) : text
  }
}
