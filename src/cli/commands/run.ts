import { BaseCommand } from '../base-command.js'
import Start from './start.js'

export default class Run extends BaseCommand {
  static summary = 'Run a pool in the foreground: for systemd (Type=simple), Procfiles and containers.'
  static description = `Takes what start takes, but the master stays this process's child: its log lines go to stdout (and master.log), ^C/INT and TERM stop the workers gracefully (a second one escalates), and rpd run exits 0 after a clean stop. Every other command (scale, status, logs, shell) attaches through the state directory as usual. Run as PID 1 (in a container) it reaps orphaned processes too.`

  static strict = false
  static args = Start.args
  static examples = [
    "<%= config.bin %> run foo=2 '*=1' --command 'bundle exec rake resque:work'",
    'worker: bundle exec rpd run -E production --command "bundle exec rake resque:work"',
  ]

  static flags = Object.fromEntries(
    Object.entries(Start.flags).filter(([name]) => name !== 'no-wait' && name !== 'timeout'),
  ) as Omit<typeof Start.flags, 'no-wait' | 'timeout'>
}
