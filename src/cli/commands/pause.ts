import { BaseCommand } from '../base-command.js'

export default class Pause extends BaseCommand {
  static summary =
    'Pause every worker (USR2): Resque workers finish their job and take no new one; a worker still booting is paused once it handles USR2.'
  static examples = ['<%= config.bin %> pause']
}
