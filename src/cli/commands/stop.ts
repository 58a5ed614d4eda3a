import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { STOP_TIMEOUT_MS } from '../../client/stop-pool.js'

export default class Stop extends BaseCommand {
  static summary = 'Stop the pool gracefully: every worker finishes its job, then the master exits.'
  static description = `Prints the shutdown log and returns when the master and all its workers are gone. After --timeout seconds it escalates: TERM to every worker's process group, then KILL.`

  static examples = [
    '<%= config.bin %> stop',
    '<%= config.bin %> stop --timeout 30',
    '<%= config.bin %> stop --force',
  ]
  static flags = {
    timeout: Flags.integer({
      helpValue: 'SECONDS',
      description: 'seconds to wait before escalating',
      default: STOP_TIMEOUT_MS / 1000,
      min: 1,
    }),
    force: Flags.boolean({ description: 'fast stop: TERM to every worker now (jobs are interrupted)' }),
  }
}
