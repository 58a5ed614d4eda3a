import { BaseCommand } from '../base-command.js'

export default class Resume extends BaseCommand {
  static summary = 'Resume paused workers (CONT).'
  static examples = ['<%= config.bin %> resume']
}
