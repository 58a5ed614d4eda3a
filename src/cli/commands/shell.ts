import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { type CachedCommand, readCommandDocs } from '../../shell/command-docs.js'
import { runShell } from '../../shell/run-shell.js'

export default class Shell extends BaseCommand {
  static summary =
    "Interactive console over one pool, as resque-pool-dynamic's: start it, follow its log, change counts, look at the tree."
  static description =
    'WORKERS gives the initial formation. The pool starts on entry unless NO_START=1, or attaches when it already runs. ' +
    "Commands keep resque-pool-dynamic's names (status, config foo=1 bar=4, log.tail, pstree, ...) and rpd's own (scale, logs -f, restart, ...); " +
    'type help inside. On exit or ^D a pool the shell started is stopped gracefully, showing the shutdown log; a pool it attached to keeps running.'

  static examples = [
    "WORKERS=foo=2:bar=2:'*'=1 <%= config.bin %> shell --command 'bundle exec rake resque:work'",
    'NO_START=1 <%= config.bin %> shell',
    '<%= config.bin %> shell --keep',
  ]

  static flags = {
    command: Flags.string({
      helpValue: 'CMD',
      char: 'c',
      description: 'worker command for start, a Procfile-style line [default: $RPD_COMMAND]',
    }),
    jobs: Flags.string({
      helpValue: 'MODULE',
      description: 'start runs the built-in Resque worker with the jobs of this module',
    }),
    keep: Flags.boolean({ description: 'leave the pool running on exit, even if the shell started it' }),
    'no-start': Flags.boolean({ description: 'do not start the pool on entry [default: $NO_START]' }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Shell)
    const code = await runShell({
      dir: this.stateDir(flags['state-dir']),
      docs: readCommandDocs(this.config.commands as CachedCommand[]),
      env: process.env,
      command: flags.command,
      jobs: flags.jobs,
      keep: flags.keep,
      noStart: flags['no-start'] || Boolean(process.env.NO_START && process.env.NO_START !== '0'),
      input: process.stdin,
      output: process.stdout,
      errorOutput: process.stderr,
    })
    // A change the shell stopped watching (^C) may still hold a timer; the session is over.
    process.exit(code)
  }
}
