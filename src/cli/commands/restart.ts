import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

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
}
