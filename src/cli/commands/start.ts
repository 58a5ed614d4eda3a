import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { limitFlags } from '../limit-flags.js'

export default class Start extends BaseCommand {
  static summary = 'Start a pool: a detached master keeping COUNT workers per queue group.'
  static description = `The formation comes from the arguments, else WORKERS, else --config or RESQUE_POOL_CONFIG, else the saved pool.yml, else resque-pool.yml (or config/resque-pool.yml) in the current directory; start says which. resque-pool.yml is read as resque-pool reads it: ERB first (with ruby), then the section for RACK_ENV/RAILS_ENV/RESQUE_ENV over the top level; rpd reload reads it again. Prints the startup log as it happens and exits 0 once every worker has started.`

  static strict = false
  static args = { spec: Args.string({ description: 'QUEUE=COUNT, or the WORKERS form foo=2:bar=2:*=1' }) }
  static examples = [
    "<%= config.bin %> start foo=2 bar=2 '*=1' --command 'bundle exec rake resque:work'",
    "<%= config.bin %> start -c config/resque-pool.yml -E production --command 'bundle exec rake resque:work'",
    'WORKERS=foo=1:baz,quux=5 <%= config.bin %> start',
    '<%= config.bin %> start foo=2 --jobs ./jobs.js --redis redis://127.0.0.1:6379',
    '<%= config.bin %> start foo=2 --metrics 9464 --log-format json',
    '<%= config.bin %> start --fleet batch --redis redis://r:6379 --weight 2 --jobs ./jobs.js',
  ]

  static flags = {
    ...limitFlags,
    config: Flags.string({
      helpValue: 'FILE',
      char: 'c',
      description:
        "resque-pool's config file to read the formation from [default: $RESQUE_POOL_CONFIG, else resque-pool.yml or config/resque-pool.yml]",
    }),
    environment: Flags.string({
      helpValue: 'NAME',
      char: 'E',
      description:
        'sets RACK_ENV, RAILS_ENV and RESQUE_ENV for the workers, and picks that section of resque-pool.yml',
    }),
    command: Flags.string({
      helpValue: 'CMD',
      description: 'worker command, a Procfile-style line [default: $RPD_COMMAND]',
    }),
    jobs: Flags.string({
      helpValue: 'MODULE',
      description: 'run the built-in Resque worker with the jobs of this module',
    }),
    redis: Flags.string({
      helpValue: 'URL',
      description: 'Redis URL for the built-in worker [default: $REDIS_URL, else redis://127.0.0.1:6379]',
    }),
    interval: Flags.string({
      helpValue: 'SECONDS',
      description:
        "seconds a worker sleeps between polls of empty queues: Resque's INTERVAL, set for every worker [default: $INTERVAL, else 5]",
    }),
    namespace: Flags.string({
      helpValue: 'NAME',
      description: 'Resque namespace in Redis [default: resque]',
    }),
    'stop-signal': Flags.string({
      helpValue: 'SIGNAL',
      description: 'signal that asks a worker to finish its job and exit [default: QUIT]',
    }),
    app: Flags.string({
      helpValue: 'NAME',
      char: 'a',
      aliases: ['appname'],
      description: 'name in the master title [default: the current directory name]',
    }),
    metrics: Flags.string({
      helpValue: '[HOST:]PORT',
      description:
        'serve Prometheus metrics at http://HOST:PORT/metrics from the master [default: off; host 127.0.0.1]',
    }),
    'log-format': Flags.string({
      helpValue: 'FORMAT',
      options: ['text', 'json'],
      description: 'master.log as text lines or one JSON object per line [default: text]',
    }),
    fleet: Flags.string({
      helpValue: 'NAME',
      description: 'join this fleet through --redis and run a share of its formation (see docs/fleet.md)',
    }),
    'host-id': Flags.string({
      helpValue: 'ID',
      description: 'this member in the fleet [default: the host name plus a digest of the state directory]',
    }),
    weight: Flags.string({
      helpValue: 'N',
      description: "this member's part of the fleet, relative to the others' [default: 1]",
    }),
    'no-wait': Flags.boolean({
      description: 'return once the master is up, without waiting for the workers',
    }),
    timeout: Flags.integer({
      helpValue: 'SECONDS',
      description: 'seconds to wait for every worker to start',
      default: 60,
      min: 1,
    }),
  }
}
