import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { showConfig } from '../lib/config.js'

export default class Config extends BaseCommand {
  static summary = 'Show the saved formation and settings (pool.yml), or with --path the state files.'
  static examples = ['<%= config.bin %> config', '<%= config.bin %> config --path']
  static flags = { path: Flags.boolean({ description: 'print the paths of the state files' }) }

  async run(): Promise<void> {
    const { flags } = await this.parse(Config)
    showConfig(this.stateDir(flags['state-dir']), { paths: flags.path }).forEach((line) => this.log(line))
  }
}
