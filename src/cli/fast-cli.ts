// Runs a plain command line without loading oclif (which costs about as much as Node's own start-up),
// with the flags oclif itself describes in oclif.manifest.json. Anything this does not plainly understand
// (help, an unknown or malformed flag, a missing argument) is left to oclif, which explains it.
import fs from 'node:fs'
import { MANIFEST } from '../paths.js'
import { ACTION_COMMANDS, reportError, runAction } from './actions/run-action.js'
import { type FlagSpec, isIntegerFlag, parseFlagWords } from './parse-flags.js'
import { resolveStateDir } from '../state/state-dir.js'

interface ManifestCommand {
  strict?: boolean
  args: Record<string, { required?: boolean }>
  flags: Record<string, FlagSpec>
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
  const parsed = parseFlagWords(flags, args)
  if (!parsed.ok) return undefined
  const values: Record<string, unknown> = { ...parsed.flags }
  // Only plain positive digits are taken here: oclif judges the rest against each flag's bounds.
  for (const flag of flags.filter(isIntegerFlag)) {
    const text = values[flag.name]
    if (typeof text !== 'string' || !/^[1-9]\d{0,8}$/.test(text)) return undefined
    values[flag.name] = Number(text)
  }
  const declared = Object.values(command.args)
  if (command.strict !== false && parsed.args.length > declared.length) return undefined
  if (declared.filter((arg) => arg.required).length > parsed.args.length) return undefined
  return { argv: parsed.args, flags: values }
}

// A reader that goes away (`rpd logs | head -3`) ends the command quietly, as SIGPIPE ends other tools,
// instead of with Node's trace of an unhandled EPIPE. What was being done (a start, a scale) is the
// master's and goes on.
export function quietOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error
      process.exit(0)
    })
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
    return await runAction(id, { ...parsed, dir, print, terminal: process.stdout })
  } catch (error) {
    return reportError(error)
  }
}
