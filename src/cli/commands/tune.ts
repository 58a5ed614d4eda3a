import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'

export default class Tune extends BaseCommand {
  static summary =
    "Find the group's worker count with the most jobs per second, within load and memory limits."
  static description = `While the group's queues hold work (a load test, or a real backlog), changes the group's count between --min and --max, measures completed jobs per second at each count from its workers' resque:stat:processed:ID counters (Ruby command workers count too), and prints a line per probe, then a table and a chart. Counts are probed by doubling, then where a Universal Scalability Law fit puts the peak; the answer is the smallest count within --tolerance of the best measured. A guard (--max-load per core, --min-free-mem) that trips ends that probe and marks the count over the limit. The group is left at the best count, and pool.yml (the formation the pool runs, as after rpd scale) holds it for the next start; an automatic group (images=0..8) gets its bounds back unless --save. ^C stops the search and restores the count it started from. See docs/tune.md.

Exit codes: 0 done; 1 a change of count failed; 2 bad bounds or flags, or the queues hold no jobs; 3 the pool, the group or Redis is not running; 130 interrupted (the starting count restored).`

  static args = { group: Args.string({ description: 'the queue group to tune', required: true }) }
  static examples = [
    '<%= config.bin %> tune images --min 1 --max 16',
    '<%= config.bin %> tune images --min 1 --max 16 --max-load 1.5 --min-free-mem 10% --plot tune.svg',
    '<%= config.bin %> tune mail --min 2 --max 8 --window 10s --json --save',
  ]
  static flags = {
    min: Flags.integer({ helpValue: 'N', description: 'fewest workers to try', required: true, min: 1 }),
    max: Flags.integer({ helpValue: 'N', description: 'most workers to try', required: true, min: 1 }),
    'max-load': Flags.string({
      helpValue: 'X',
      description: 'guard: 1-minute load average per core must stay at or below X',
    }),
    'min-free-mem': Flags.string({
      helpValue: 'SIZE',
      description: 'guard: MemAvailable must stay at or above SIZE (500M, 2G, 10%)',
    }),
    window: Flags.string({
      helpValue: 'DURATION',
      description: 'measure each count exactly this long (10s) [default: until steady, 5 to 30 s]',
    }),
    tolerance: Flags.string({
      helpValue: 'PERCENT',
      description: 'the answer is the smallest count within this of the best throughput',
      default: '5%',
    }),
    json: Flags.boolean({ description: 'print the result as JSON instead of the table and chart' }),
    plot: Flags.string({ helpValue: 'FILE.svg', description: 'also draw the chart into an SVG file' }),
    save: Flags.boolean({
      description: 'an automatic group: keep the best count as a fixed count instead of its bounds',
    }),
    redis: Flags.string({
      helpValue: 'URL',
      description: "Redis of the workers' counters [default: $REDIS_URL, else the pool's]",
    }),
    namespace: Flags.string({ helpValue: 'NAME', description: "Resque namespace [default: the pool's]" }),
  }
}
