import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Schedule extends BaseCommand {
  static summary = 'List, add or remove time-of-day windows that change the formation.'
  static description = `From the start of a window to its end, its entries (counts or ranges) replace the base formation's for the groups they name. Days are optional (09:00-18:00 is every day); a window may wrap midnight; where windows overlap, the later-listed wins. Times are local unless --tz names a zone. A running pool changes its formation at each edge and says so in the log.`

  static strict = false
  static args = {
    verb: Args.string({ description: 'add WINDOW ENTRY..., rm N, or nothing to list', required: false }),
  }
  static examples = [
    "<%= config.bin %> schedule add 'mon-fri 09:00-18:00' ui=6 reports=0..2",
    "<%= config.bin %> schedule add '22:00-06:00' batch=8",
    '<%= config.bin %> schedule',
    '<%= config.bin %> schedule rm 1',
  ]
  static flags = {
    tz: Flags.string({
      helpValue: 'ZONE',
      description: 'IANA time zone for the windows, e.g. Europe/Berlin [default: local]',
    }),
  }
}
