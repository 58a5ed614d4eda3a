import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Top extends BaseCommand {
  static summary = 'Watch the pool live: groups, workers, queues, rates and the last decisions.'
  static description = `Redraws every second in the terminal's alternate screen. Keys: ↑/↓ (or k/j) select a group, + and - scale it by one, q or ^C leaves. Per worker: pid, state, current job and how long it has run, RSS and CPU. Per group: jobs/s and queue latency as sparklines. With --once (or when not on a terminal) prints one frame, without escape codes unless on a terminal.`
  static examples = ['<%= config.bin %> top', '<%= config.bin %> top --once']
  static flags = { once: Flags.boolean({ description: 'print one frame and exit' }) }
}
