import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { reportStatus } from '../lib/pool-status.js'

export default class Status extends BaseCommand {
  static summary = 'Show whether the pool runs: master pid, uptime, formation and process tree.'
  static description = 'Exits 0 when the pool runs, 3 when it does not.'
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status --json | jq .workers']
  static flags = { json: Flags.boolean({ description: 'print the status as JSON' }) }

  async run(): Promise<void> {
    const { flags } = await this.parse(Status)
    const code = await reportStatus(this.stateDir(flags['state-dir']), flags.json, this.print)
    if (code) this.exit(code)
  }
}
