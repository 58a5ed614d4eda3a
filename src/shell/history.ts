import fs from 'node:fs'
import { writeFileAtomic } from '../state/atomic-file.js'

// How many lines the shell remembers across sessions.
export const HISTORY_LINES = 1000

// Reads shell_history (oldest first, one line each, as bash keeps it) into readline's order (newest first).
// A file grown past twice the limit by appends is trimmed back to the limit.
export function loadHistory(file: string): string[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  const kept = lines.slice(-HISTORY_LINES)
  if (lines.length > 2 * HISTORY_LINES) {
    try {
      writeFileAtomic(file, `${kept.join('\n')}\n`)
    } catch {
      // an untrimmed history still works
    }
  }
  return kept.reverse()
}

// Appends one entered line; several shells on one pool interleave their lines instead of overwriting them.
export function appendHistory(file: string, line: string): void {
  try {
    fs.appendFileSync(file, `${line}\n`, { mode: 0o600 })
  } catch {
    // history is a convenience: a full disk must not break the shell
  }
}
