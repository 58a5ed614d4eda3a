import { Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Status extends BaseCommand {
  static summary = 'Show whether the pool runs: master pid, uptime, formation and process tree.'
  static description =
    'Exits 0 when the pool runs, 3 when it does not. With --fleet: every member of the fleet, its share and workers, from its Redis (3 when it has no live member).'
  static examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --json | jq .workers',
    '<%= config.bin %> status --fleet batch --redis redis://r:6379',
  ]
  static flags = {
    json: Flags.boolean({ description: 'print the status as JSON' }),
    fleet: Flags.string({ helpValue: 'NAME', description: 'show this fleet, read from its Redis' }),
    redis: Flags.string({
      helpValue: 'URL',
      description: "the fleet's Redis, with --fleet [default: $REDIS_URL, else redis://127.0.0.1:6379]",
    }),
  }
}
