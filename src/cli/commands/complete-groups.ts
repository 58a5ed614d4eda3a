import { BaseCommand } from '../base-command.js'

// For the shell completion scripts: not listed in help, run by the fast path without loading oclif.
export default class CompleteGroups extends BaseCommand {
  static hidden = true
  static summary = "Print the pool's queue group names, one a line (for shell completion)."
  static description = `Reads status.json of the pool's state directory, else its pool.yml formation; prints nothing when there is neither.`
}
