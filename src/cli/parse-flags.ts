import { parseArgs, type ParseArgsConfig } from 'node:util'

// A flag as oclif describes it in oclif.manifest.json (and in Config.commands, which oclif reads from there):
// the one description both the fast command-line path and the shell parse against.
export interface FlagSpec {
  name: string
  type: 'boolean' | 'option'
  char?: string
  default?: unknown
  multiple?: boolean
}

export type FlagValues = Record<string, string | boolean | undefined>

export type FlagParse =
  | { ok: true; args: string[]; flags: FlagValues }
  // unknownOption: the option as typed, when that is what is wrong; message: node's words for anything else.
  | { ok: false; unknownOption?: string; message: string }

// Splits words into arguments and the flags given; an option left out gets its default, as text.
export function parseFlagWords(flags: readonly FlagSpec[], words: readonly string[]): FlagParse {
  const options: ParseArgsConfig['options'] = {}
  for (const flag of flags)
    options[flag.name] = {
      type: flag.type === 'boolean' ? 'boolean' : 'string',
      ...(flag.char ? { short: flag.char } : {}),
    }
  let parsed: { values: Record<string, unknown>; positionals: string[] }
  try {
    parsed = parseArgs({ args: [...words], options, allowPositionals: true, strict: true })
  } catch (error) {
    const message = (error as Error).message
    if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      return { ok: false, unknownOption: /'([^']*)'/.exec(message)?.[1] ?? '?', message }
    return { ok: false, message }
  }
  const values: FlagValues = {}
  for (const flag of flags) {
    const given = parsed.values[flag.name]
    if (typeof given === 'string' || typeof given === 'boolean') values[flag.name] = given
    else if (flag.type === 'option' && flag.default !== undefined) values[flag.name] = String(flag.default)
  }
  return { ok: true, args: parsed.positionals, flags: values }
}

// oclif's manifest keeps an integer flag's default (a number) but not its type or bounds.
export function isIntegerFlag(flag: FlagSpec): boolean {
  return typeof flag.default === 'number'
}
