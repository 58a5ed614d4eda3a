import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Config extends BaseCommand {
  static summary = 'Show the saved formation and settings (pool.yml), or with --path the state files.'
  static examples = ['<%= config.bin %> config', '<%= config.bin %> config --path']
  static flags = { path: Flags.boolean({ description: 'print the paths of the state files' }) }
}
