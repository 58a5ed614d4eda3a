// What a word after the command name can be, for tab completion.
export type ArgKind = 'group-counts' | 'groups' | 'signals' | 'commands'

export interface CompletionSources {
  commands: readonly string[]
  argKind(command: string): ArgKind | undefined
  flags(command: string): readonly string[]
  // The queue groups of the pool (its saved formation).
  groups(): readonly string[]
}

export const SIGNAL_NAMES = ['HUP', 'QUIT', 'INT', 'TERM', 'USR1', 'USR2', 'CONT', 'KILL']

// readline's completer: candidates for the word under the cursor (the last one typed), and that word.
export function completeLine(line: string, sources: CompletionSources): [string[], string] {
  const words = line.trimStart().split(/\s+/)
  if (words[0] === 'rpd' && words.length > 1) words.shift()
  const current = words[words.length - 1]
  if (words.length === 1) {
    const found = sources.commands.filter((name) => name.startsWith(current))
    return [found.length === 1 ? [`${found[0]} `] : found, current]
  }
  const command = words[0]
  let candidates: readonly string[] = []
  if (current.startsWith('-')) candidates = sources.flags(command)
  else
    switch (sources.argKind(command)) {
      case 'group-counts':
        candidates = current.includes('=') ? [] : sources.groups().map((group) => `${group}=`)
        break
      case 'groups':
        candidates = sources.groups()
        break
      case 'signals':
        candidates = SIGNAL_NAMES
        break
      case 'commands':
        candidates = sources.commands
        break
    }
  return [candidates.filter((candidate) => candidate.startsWith(current)), current]
}
