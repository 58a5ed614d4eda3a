import { Command, Flags } from '@oclif/core'
import { EXIT_USAGE, RpdError } from './lib/errors.js'
import { resolveStateDir } from './lib/state-dir.js'

// Flags every command takes, and one way of reporting failure: `rpd: message` on one line, with the exit code.
export abstract class BaseCommand extends Command {
  static baseFlags = {
    'state-dir': Flags.string({
      description: 'state directory of the pool [default: $RPD_STATE_DIR, else ./.rpd]',
      helpValue: 'DIR',
    }),
  }

  protected stateDir(flag: string | undefined): string {
    return resolveStateDir(flag)
  }

  protected print = (line: string): void => {
    this.log(line)
  }

  protected async catch(error: Error & { code?: string; oclif?: { exit?: number } }): Promise<unknown> {
    // this.exit(n) throws to unwind; it is not a failure to report.
    if (error.code === 'EEXIT') process.exit(error.oclif?.exit ?? 0)
    if (process.env.DEBUG?.includes('rpd')) process.stderr.write(`${error.stack}\n`)
    const parse = isParseError(error)
    const exit = error instanceof RpdError ? error.exit : parse ? EXIT_USAGE : (error.oclif?.exit ?? 1)
    if (exit === 0) return
    process.stderr.write(
      `rpd: ${oneLine(error.message)}${parse ? `; see rpd ${this.id ?? ''} --help` : ''}\n`,
    )
    process.exit(exit)
  }
}

// oclif's messages span lines ("Parsing --timeout\n\tExpected an integer ..."): keep them as one line.
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.replace(/^\s*(Error:\s*)?/, '').trim())
    .filter((line) => line && !/^See more help with/.test(line))
    .join(': ')
}

// oclif's flag and argument parse errors carry the parse that failed.
function isParseError(error: Error): boolean {
  return 'parse' in error
}
