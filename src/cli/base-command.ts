import { Command, Flags } from '@oclif/core'
import { ACTION_COMMANDS, reportError, runAction } from './actions/run-action.js'
import { EXIT_USAGE, RpdError } from '../errors.js'
import { resolveStateDir } from '../state/state-dir.js'

// Every command: its flags and docs here in oclif, its work in src/actions (also run by bin/run.js's fast path),
// and one way of reporting failure: `rpd: message` on one line, with the exit code.
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

  async run(): Promise<void> {
    if (!this.id || !ACTION_COMMANDS.has(this.id)) throw new RpdError(`no action for ${this.id}`)
    const { argv, flags } = await this.parse(this.constructor as typeof BaseCommand)
    const code = await runAction(this.id, {
      argv: argv as string[],
      flags,
      dir: this.stateDir(flags['state-dir'] as string | undefined),
      print: this.print,
      terminal: process.stdout,
    })
    if (code) this.exit(code)
  }

  protected async catch(error: Error & { code?: string; oclif?: { exit?: number } }): Promise<unknown> {
    // this.exit(n) throws to unwind; it is not a failure to report.
    if (error.code === 'EEXIT') process.exit(error.oclif?.exit ?? 0)
    const parse = isParseError(error)
    if (parse || !(error instanceof RpdError)) {
      const exit = parse ? EXIT_USAGE : (error.oclif?.exit ?? 1)
      reportError(error, parse ? `; see rpd ${this.id ?? ''} --help` : '')
      process.exit(exit)
    }
    process.exit(reportError(error))
  }
}

// oclif's flag and argument parse errors carry the parse that failed.
function isParseError(error: Error): boolean {
  return 'parse' in error
}
