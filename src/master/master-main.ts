// Entry of the detached master process: node master-main.js STATE_DIR [title padding].
import { formatLogLine } from '../state/log-file.js'
import { Master } from './master.js'
import { findMaster } from '../state/master-pid.js'
import { poolFromDocument, readPool } from '../state/pool-file.js'
import { statePaths } from '../state/state-dir.js'
import { errorMessage } from '../errors.js'
import { FOREGROUND_ENV } from './foreground.js'
import { restoreExtraCa } from '../proc/extra-ca.js'
import { HELD_ENV, awaitRelease } from './held-start.js'

restoreExtraCa()

// stdout and stderr are master.log: a fatal error there is the reason `rpd start` reports.
function fail(message: string): never {
  process.stderr.write(formatLogLine('master', process.pid, `cannot start: ${message}`))
  process.exit(1)
}

// Launched by `rpd start` ahead of pool.yml: the imports above are done; wait for the word. Without it the
// start gave up and nothing of this master is left behind, not even a line.
let handed: string | undefined
if (process.env[HELD_ENV] !== undefined) {
  delete process.env[HELD_ENV]
  handed = awaitRelease()
  if (handed === undefined) process.exit(0)
}

const dir = process.argv[2]
if (!dir) fail('no state directory given')
const paths = statePaths(dir)
try {
  const other = findMaster(paths)
  if (other.running && other.master.pid !== process.pid) fail(`already running (pid ${other.master.pid})`)
  const pool = handed ? poolFromDocument(JSON.parse(handed), paths.pool) : readPool(paths)
  if (!pool) fail(`${paths.pool} is missing`)
  if (!pool.command && !pool.jobs) fail(`${paths.pool} names no worker command: start with --command CMD`)
  await new Master(paths, pool, { foreground: process.env[FOREGROUND_ENV] === '1' }).run()
  process.exit(0)
} catch (error) {
  fail(errorMessage(error))
}
