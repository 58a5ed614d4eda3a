import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { limitFlags } from '../limit-flags.js'

export default class Autoscale extends BaseCommand {
  static summary = 'Show or tune how automatic groups (foo=1..8) size themselves from their queues.'
  static description = `Without flags: each automatic group's bounds, its count now, and the last decision with its reason and inputs. With flags: sets the policy for one GROUP, or for every automatic group, in pool.yml, and has a running pool take it at once. A group becomes automatic when scaled to a range (rpd scale images=0..8) and manual again when scaled to a count.`

  static args = { group: Args.string({ description: 'an automatic queue group', required: false }) }
  static examples = [
    '<%= config.bin %> autoscale',
    '<%= config.bin %> autoscale images --target-latency 30s --down-after 2m',
    '<%= config.bin %> autoscale --dry-run',
  ]
  static flags = {
    ...limitFlags,
    'target-latency': Flags.string({
      helpValue: 'DURATION',
      description: 'how long a job may wait in the queue (30s, 2m; default 30s)',
    }),
    'down-after': Flags.string({
      helpValue: 'DURATION',
      description: 'how long the need must stay lower before the group shrinks (default 2m)',
    }),
    'dry-run': Flags.boolean({
      allowNo: true,
      description: 'log decisions without applying them (--no-dry-run applies them again)',
    }),
  }
}
