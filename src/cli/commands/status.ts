import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Status extends BaseCommand {
  static summary = 'Show whether the pool runs: master pid, uptime, formation and process tree.'
  static description = 'Exits 0 when the pool runs, 3 when it does not.'
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json | jq .workers']
  static flags = { json: Flags.boolean({ description: 'print the status as JSON' }) }
}
