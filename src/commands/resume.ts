import { BaseCommand } from '../base-command.js'
import { signalMaster } from '../lib/signal-master.js'

export default class Resume extends BaseCommand {
  static summary = 'Resume paused workers (CONT).'
  static examples = ['<%= config.bin %> resume']

  async run(): Promise<void> {
    const { flags } = await this.parse(Resume)
    const { master } = signalMaster(this.stateDir(flags['state-dir']), 'CONT')
    this.log(`resumed (sent CONT through master ${master.pid})`)
  }
}
