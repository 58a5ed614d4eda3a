import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { DEFAULT_LOG_LINES } from '../../client/logs.js'

export default class Logs extends BaseCommand {
  static summary = "Show the pool's log (master.log): the last lines, or follow it."
  static description = `With --follow, goes on until ^C or until the master exits. Reads text and JSON logs (--log-format json) alike, from the end of the file, so a large log costs only its tail. --grep, --group and --pid choose the lines shown. With --until, follows until a line (among those shown) matches the regular expression: exit 0, or 1 when --timeout passes first.`

  static examples = [
    '<%= config.bin %> logs -n 100',
    '<%= config.bin %> logs -f',
    '<%= config.bin %> logs --group images --grep "exited|failed" -n 50',
    '<%= config.bin %> logs --json | jq .text',
    "<%= config.bin %> logs --until 'Starting worker' --timeout 30",
  ]
  static flags = {
    lines: Flags.integer({
      helpValue: 'N',
      char: 'n',
      description: 'how many of the last lines to show',
      default: DEFAULT_LOG_LINES,
      min: 0,
    }),
    follow: Flags.boolean({ char: 'f', description: 'follow the log as it grows' }),
    until: Flags.string({
      description: 'follow until a line matches this regular expression',
      helpValue: 'REGEX',
    }),
    json: Flags.boolean({ description: 'print each line as a JSON object {time, source, pid, text, ...}' }),
    grep: Flags.string({
      helpValue: 'REGEX',
      description: 'only lines matching this regular expression (RE2: no lookaround or backreferences)',
    }),
    group: Flags.string({ helpValue: 'GROUP', description: 'only lines of this queue group (or master)' }),
    pid: Flags.integer({ helpValue: 'PID', description: 'only lines of this process', min: 1 }),
    timeout: Flags.integer({
      helpValue: 'SECONDS',
      description: 'with --until: give up after this many seconds',
      default: 60,
      min: 1,
    }),
  }
}
