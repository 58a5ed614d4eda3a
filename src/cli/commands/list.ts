import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class List extends BaseCommand {
  static summary =
    'List every running pool of yours on this host: state directory, pid, app, formation, uptime.'
  static description =
    'Pools are found through the registry rpd start writes ($XDG_RUNTIME_DIR/rpd/pools, else ~/.local/state/rpd/pools) and the masters running now; pools that no longer run are dropped from it.'
  static examples = ['<%= config.bin %> list', '<%= config.bin %> list --json | jq -r .[].stateDir']
  static flags = { json: Flags.boolean({ description: 'print the pools as JSON' }) }
}
