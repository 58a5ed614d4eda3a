import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Scale extends BaseCommand {
  static summary = 'Change worker counts: foo=4 sets, foo=+2 / foo=-1 adjust, foo=0 removes the group.'
  static description = `Merges into the formation under the state directory's lock. A running pool applies it at once, touching only the groups that changed; this waits until every new worker has started. When the pool is not running, the formation is saved for the next rpd start.`

  static strict = false
  static args = { spec: Args.string({ description: 'QUEUE=COUNT, QUEUE=+N or QUEUE=-N', required: true }) }
  static examples = [
    '<%= config.bin %> scale bar=4 foo=0',
    '<%= config.bin %> scale foo=+2',
    '<%= config.bin %> scale foo=1:bar=4',
    "<%= config.bin %> scale --fleet batch --redis redis://r:6379 images=12 'mail=0..20'",
  ]
  static flags = {
    fleet: Flags.string({
      helpValue: 'NAME',
      description:
        "change this fleet's formation in its Redis (GROUP=COUNT, GROUP=MIN..MAX, GROUP=0 drops it); no local pool needed",
    }),
    redis: Flags.string({
      helpValue: 'URL',
      description: "the fleet's Redis, with --fleet [default: $REDIS_URL, else redis://127.0.0.1:6379]",
    }),
    'no-wait': Flags.boolean({ description: 'return once the master has been told' }),
    timeout: Flags.integer({
      helpValue: 'SECONDS',
      description: 'seconds to wait for the new workers to start',
      default: 60,
      min: 1,
    }),
  }
}
