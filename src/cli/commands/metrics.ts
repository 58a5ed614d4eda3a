import { BaseCommand } from '../base-command.js'

export default class Metrics extends BaseCommand {
  static summary = "Print the pool's Prometheus metrics once, as the master's /metrics would serve them."
  static description = `Reads status.json and the pool's Redis (queue depths, Resque's counters). Counters are the master's own since it started. Exits 3 when no pool runs. To serve them for scraping, start the pool with --metrics [HOST:]PORT.`
  static examples = ['<%= config.bin %> metrics', '<%= config.bin %> metrics | grep rpd_workers']
}
