// What the shell's help and flag parsing need from one rpd command: the same statics its --help prints.
export interface FlagDoc {
  name: string
  char?: string
  description?: string
  type: 'boolean' | 'option'
  helpValue?: string
  default?: unknown
}

export interface CommandDoc {
  id: string
  summary?: string
  description?: string
  examples: string[]
  flags: FlagDoc[]
  args: { name: string; description?: string; required?: boolean }[]
}

// The structural part of oclif's Command.Cached (the manifest's entry) that help reads.
export interface CachedCommand {
  id: string
  hidden?: boolean
  summary?: string
  description?: string
  examples?: (string | { command: string; description: string })[]
  flags: Record<
    string,
    {
      name: string
      char?: string
      description?: string
      type: string
      helpValue?: unknown
      default?: unknown
      hidden?: boolean
    }
  >
  args: Record<string, { name: string; description?: string; required?: boolean }>
}

// Flags the shell supplies itself: it is bound to one state directory.
const SHELL_OWNED_FLAGS = new Set(['state-dir'])

// oclif writes `<%= config.bin %>` where the binary's name goes.
export function fillTemplate(text: string, bin = 'rpd'): string {
  return text.replace(/<%=\s*config\.bin\s*%>/g, bin)
}

export function readCommandDoc(command: CachedCommand): CommandDoc {
  return {
    id: command.id,
    summary: command.summary && fillTemplate(command.summary),
    description: command.description && fillTemplate(command.description),
    examples: (command.examples ?? []).map((example) =>
      typeof example === 'string' ? example : example.command,
    ),
    flags: Object.values(command.flags)
      .filter((flag) => !flag.hidden && !SHELL_OWNED_FLAGS.has(flag.name))
      .map((flag) => ({
        name: flag.name,
        char: flag.char,
        description: flag.description,
        type: flag.type === 'boolean' ? 'boolean' : 'option',
        helpValue: typeof flag.helpValue === 'string' ? flag.helpValue : undefined,
        default: flag.default,
      })),
    args: Object.values(command.args),
  }
}

// Commands the shell can describe: visible ones, but not the shell itself.
export function readCommandDocs(commands: readonly CachedCommand[]): Map<string, CommandDoc> {
  return new Map(commands.filter((c) => !c.hidden && c.id !== 'shell').map((c) => [c.id, readCommandDoc(c)]))
}
