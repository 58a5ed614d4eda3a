// Runs a plain command line without loading oclif (which costs about as much as Node's own start-up),
// with the flags oclif itself describes in oclif.manifest.json. Anything this does not plainly understand
// (help, an unknown or malformed flag, a missing argument) is left to oclif, which explains it.
import fs from 'node:fs'
import { MANIFEST } from '../paths.js'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ACTION_COMMANDS, reportError, runAction } from './actions/run-action.js'
import { resolveStateDir } from '../state/state-dir.js'

interface ManifestFlag {
  name: string
  type: 'boolean' | 'option'
  char?: string
  default?: unknown
  multiple?: boolean
}

interface ManifestCommand {
  strict?: boolean
  args: Record<string, { required?: boolean }>
  flags: Record<string, ManifestFlag>
}

function readCommand(id: string): ManifestCommand | undefined {
  try {
    return (JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as { commands: Record<string, ManifestCommand> })
      .commands[id]
  } catch {
    return undefined
  }
}

// Flags and arguments as oclif would give them, or undefined where oclif should judge.
export function parseCommandLine(
  command: ManifestCommand,
  args: string[],
): { argv: string[]; flags: Record<string, unknown> } | undefined {
  if (args.includes('--help') || args.includes('-h')) return undefined
  const flags = Object.values(command.flags)
  if (flags.some((flag) => flag.multiple)) return undefined
  const options: ParseArgsConfig['options'] = {}
  for (const flag of flags)
    options[flag.name] = {
      type: flag.type === 'boolean' ? 'boolean' : 'string',
      ...(flag.char ? { short: flag.char } : {}),
    }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true })
  } catch {
    return undefined
  }
  const values: Record<string, unknown> = {}
  for (const flag of flags) {
    const given = parsed.values[flag.name]
    // A flag with a numeric default is an integer flag; only plain positive digits are taken here.
    if (typeof flag.default === 'number') {
      if (given === undefined) values[flag.name] = flag.default
      else if (typeof given === 'string' && /^[1-9]\d{0,8}$/.test(given)) values[flag.name] = Number(given)
      else return undefined
    } else values[flag.name] = given ?? flag.default
  }
  const declared = Object.values(command.args)
  if (command.strict !== false && parsed.positionals.length > declared.length) return undefined
  if (declared.filter((arg) => arg.required).length > parsed.positionals.length) return undefined
  return { argv: parsed.positionals, flags: values }
}

// The exit code, or undefined when oclif should run this command line instead.
export async function runFast(args: string[]): Promise<number | undefined> {
  const [id, ...rest] = args
  if (!id || !ACTION_COMMANDS.has(id)) return undefined
  const command = readCommand(id)
  const parsed = command && parseCommandLine(command, rest)
  if (!parsed) return undefined
  const print = (line: string) => process.stdout.write(`${line}\n`)
  try {
    const dir = resolveStateDir(parsed.flags['state-dir'] as string | undefined)
    return await runAction(id, { ...parsed, dir, print })
  } catch (error) {
    return reportError(error)
  }
}
