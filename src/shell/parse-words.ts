import { parseArgs } from 'node:util'
import { usageError } from '../errors.js'
import { showToken } from '../state/formation.js'
import type { FlagDoc } from './command-docs.js'

export type FlagValues = Record<string, string | boolean | undefined>

export interface ParsedWords {
  args: string[]
  flags: FlagValues
}

// Splits a command's words into arguments and the flags it takes (the same flags as the rpd command it maps
// onto, with their defaults); anything else is a one-line usage error pointing at help.
export function parseWords(
  command: string,
  words: readonly string[],
  flags: readonly FlagDoc[],
): ParsedWords {
  const options = Object.fromEntries(
    flags.map((flag) => [
      flag.name,
      {
        type: flag.type === 'boolean' ? ('boolean' as const) : ('string' as const),
        ...(flag.char ? { short: flag.char } : {}),
      },
    ]),
  )
  let parsed: { values: Record<string, unknown>; positionals: string[] }
  try {
    parsed = parseArgs({ args: [...words], options, allowPositionals: true, strict: true })
  } catch (error) {
    const message = (error as Error).message
    const token = /'([^']*)'/.exec(message)?.[1]
    if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw usageError(`${command} has no option ${showToken(token ?? '?')}: see help ${command}`)
    throw usageError(`${message.split(/\.\s/)[0].replace(/\.$/, '')}: see help ${command}`)
  }
  const values: FlagValues = {}
  for (const flag of flags) {
    const value = parsed.values[flag.name]
    if (typeof value === 'string' || typeof value === 'boolean') values[flag.name] = value
    else if (flag.type === 'option' && flag.default !== undefined) values[flag.name] = String(flag.default)
  }
  return { args: parsed.positionals, flags: values }
}

// A flag's or argument's whole number (counts, seconds), checked like the CLI's integer flags.
export function readWholeNumber(
  value: string | boolean | undefined,
  what: string,
  min = 0,
): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw usageError(
      `${what} must be a whole number${min ? ` of at least ${min}` : ''}, not ${showToken(value)}`,
    )
  return Number(value)
}

export function readString(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}
