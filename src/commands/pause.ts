import { BaseCommand } from '../base-command.js'
import { signalMaster } from '../lib/signal-master.js'

export default class Pause extends BaseCommand {
  static summary = 'Pause every worker (USR2): Resque workers finish their job and take no new one.'
  static examples = ['<%= config.bin %> pause']

  async run(): Promise<void> {
    const { flags } = await this.parse(Pause)
    const { master } = signalMaster(this.stateDir(flags['state-dir']), 'USR2')
    this.log(`paused (sent USR2 through master ${master.pid}); rpd resume goes on`)
  }
}
