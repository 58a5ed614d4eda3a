import { Command } from '@oclif/core'

export default class Version extends Command {
  static summary = 'Print the version of rpd (as rpd --version and rpd -v do).'

  async run(): Promise<void> {
    this.log(this.config.userAgent)
  }
}
