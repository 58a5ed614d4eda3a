import { Args } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Kill extends BaseCommand {
  static summary = 'Send a signal to the master (verified by pid and start time).'
  static description = `HUP reloads, QUIT/INT stop gracefully, TERM stops fast, USR1/USR2/CONT are passed to every worker (Resque: kill the current job / pause / resume).`

  static args = {
    signal: Args.string({ description: 'signal name (QUIT, SIGQUIT, quit) or number', required: true }),
  }
  static examples = ['<%= config.bin %> kill HUP', '<%= config.bin %> kill USR2']
}
