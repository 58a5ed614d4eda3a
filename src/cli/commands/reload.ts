import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Reload extends BaseCommand {
  static summary =
    'Make the master re-read pool.yml (and the resque-pool.yml its formation came from) and reopen master.log (HUP).'
  static description = 'Use it after editing pool.yml by hand, or after moving master.log away to rotate it.'
  static examples = ['mv .rpd/master.log .rpd/master.log.1 && <%= config.bin %> reload']
  static flags = {
    'no-wait': Flags.boolean({ description: 'return once the master has been told' }),
    timeout: Flags.integer({
      helpValue: 'SECONDS',
      description: 'seconds to wait for the change to apply',
      default: 60,
      min: 1,
    }),
  }
}
