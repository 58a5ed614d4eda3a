import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { restartPool } from '../lib/scale-pool.js'

export default class Restart extends BaseCommand {
  static summary = 'Rolling restart of the workers (all, or of the groups named), e.g. to deploy new code.'
  static description =
    'Each worker gets its replacement first and is stopped gracefully once that has started, so capacity never drops.'
  static strict = false
  static args = { group: Args.string({ description: 'queue group to restart (default: all)' }) }
  static examples = ['<%= config.bin %> restart', '<%= config.bin %> restart foo']
  static flags = {
    'no-wait': Flags.boolean({ description: 'return once the master has been told' }),
    timeout: Flags.integer({
      helpValue: 'SECONDS',
      description: 'seconds to wait for the replacements to start',
      default: 60,
      min: 1,
    }),
  }

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Restart)
    const outcome = await restartPool(
      this.stateDir(flags['state-dir']),
      argv as string[],
      { wait: !flags['no-wait'], timeoutMs: flags.timeout * 1000 },
      this.print,
    )
    this.log(outcome.kind === 'applied' ? 'restarted' : 'restart requested')
  }
}
