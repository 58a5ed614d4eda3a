import type { Hook } from '@oclif/core'
import { EXIT_USAGE } from '../../errors.js'

// Edit distance between two words (insertions, deletions, substitutions, and swaps of neighbours: the
// commonest typo, `stauts`, is one swap from status but two edits from start).
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  return d[a.length][b.length]
}

// The known command nearest a typo, if it is near enough to be what was meant.
export function closest(typed: string, known: readonly string[]): string | undefined {
  // A command the typed word begins is the likeliest meaning ("stat" is status, not start).
  const ranked = known
    .map((id) => ({ id, d: id.startsWith(typed) ? 0 : distance(typed, id) }))
    .sort((a, b) => a.d - b.d)
  return ranked[0] && ranked[0].d <= Math.max(2, Math.floor(typed.length / 3)) ? ranked[0].id : undefined
}

// An unknown command is bad usage like any other: one line, exit 2.
const hook: Hook<'command_not_found'> = async function (options) {
  const known = options.config.commands.filter((command) => !command.hidden).map((command) => command.id)
  const near = closest(options.id, known)
  process.stderr.write(
    `rpd: unknown command ${JSON.stringify(options.id)}${near ? ` (did you mean ${near}?)` : ''}: see rpd --help\n`,
  )
  process.exit(EXIT_USAGE)
}

export default hook
