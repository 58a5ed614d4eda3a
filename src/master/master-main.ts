// Entry of the detached master process: node master-main.js STATE_DIR [title padding].
import { formatLogLine } from '../state/log-file.js'
import { Master } from './master.js'
import { findMaster } from '../state/master-pid.js'
import { readPool } from '../state/pool-file.js'
import { statePaths } from '../state/state-dir.js'
import { errorMessage } from '../errors.js'
import { FOREGROUND_ENV } from './foreground.js'
import { restoreExtraCa } from '../proc/extra-ca.js'

restoreExtraCa()

// stdout and stderr are master.log: a fatal error there is the reason `rpd start` reports.
function fail(message: string): never {
  process.stderr.write(formatLogLine('master', process.pid, `cannot start: ${message}`))
  process.exit(1)
}

const dir = process.argv[2]
if (!dir) fail('no state directory given')
const paths = statePaths(dir)
try {
  const other = findMaster(paths)
  if (other.running && other.master.pid !== process.pid) fail(`already running (pid ${other.master.pid})`)
  const pool = readPool(paths)
  if (!pool) fail(`${paths.pool} is missing`)
  if (!pool.command && !pool.jobs) fail(`${paths.pool} names no worker command: start with --command CMD`)
  await new Master(paths, pool, { foreground: process.env[FOREGROUND_ENV] === '1' }).run()
  process.exit(0)
} catch (error) {
  fail(errorMessage(error))
}
