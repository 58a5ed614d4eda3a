import { usageError } from '../errors.js'
import { showToken } from '../state/formation.js'
import { type FlagValues, parseFlagWords } from '../cli/parse-flags.js'
import type { FlagDoc } from './command-docs.js'

export type { FlagValues }

export interface ParsedWords {
  args: string[]
  flags: FlagValues
}

// Splits a command's words into arguments and the flags it takes (the same flags as the rpd command it maps
// onto, with their defaults), parsed as the fast command-line path parses them; where that path would leave a
// doubtful line to oclif, the shell has no oclif to ask, so anything else is a one-line usage error pointing at help.
export function parseWords(
  command: string,
  words: readonly string[],
  flags: readonly FlagDoc[],
): ParsedWords {
  const parsed = parseFlagWords(flags, words)
  if (parsed.ok) return { args: parsed.args, flags: parsed.flags }
  if (parsed.unknownOption !== undefined)
    throw usageError(`${command} has no option ${showToken(parsed.unknownOption)}: see help ${command}`)
  throw usageError(`${parsed.message.split(/\.\s/)[0].replace(/\.$/, '')}: see help ${command}`)
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
