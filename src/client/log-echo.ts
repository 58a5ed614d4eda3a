import { LINE_SPLIT_MARK } from '../state/line-buffer.js'
import { formatParsedLine, parseLogLine } from '../state/log-file.js'

// How much of a line the master had to split (a worker printing without newlines) `start`, `scale` and
// `reload` echo while they wait; master.log keeps all of it.
export const ECHO_LONG_LINE_CHARS = 200
export const ECHO_LONG_LINE_NOTE = '… (a long line: rpd logs shows it whole)'

// Passes log lines through for echoing, except that a split line shows as its first ECHO_LONG_LINE_CHARS
// characters and a note: a worker's 100 MB line must not become 100 MB on the terminal (or a pipe).
export function longLineEcho(): (line: string) => string | undefined {
  // The writers (source and pid) whose long line is still coming.
  const midLine = new Set<string>()
  return (line) => {
    if (!line.includes(LINE_SPLIT_MARK)) {
      if (midLine.size === 0) return line
      const parsed = parseLogLine(line)
      // The last piece of a split line ends without the mark.
      return midLine.delete(`${parsed.source}[${parsed.pid}]`) ? undefined : line
    }
    const parsed = parseLogLine(line)
    if (!parsed.text.endsWith(LINE_SPLIT_MARK)) return line
    const writer = `${parsed.source}[${parsed.pid}]`
    if (midLine.has(writer)) return undefined
    midLine.add(writer)
    return formatParsedLine({
      ...parsed,
      text: parsed.text.slice(0, ECHO_LONG_LINE_CHARS) + ECHO_LONG_LINE_NOTE,
    })
  }
}
