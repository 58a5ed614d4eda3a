import { EXIT_FAILURE, usageError } from '../../errors.js'
import { showLogs } from '../../client/logs.js'
import { type Action, abortOnInterrupt, flagNumber, flagString } from './action.js'

const logs: Action = async ({ dir, flags, print }) => {
  const until = flagString(flags, 'until')
  const timeout = flagNumber(flags, 'timeout')
  const matched = await showLogs(
    dir,
    {
      lines: flagNumber(flags, 'lines'),
      follow: Boolean(flags.follow),
      until,
      timeoutMs: timeout * 1000,
      signal: abortOnInterrupt(),
      json: Boolean(flags.json),
      grep: flagString(flags, 'grep'),
      group: flagString(flags, 'group'),
      pid: flags.pid === undefined ? undefined : pidFlag(flags.pid),
    },
    print,
  )
  if (matched) return undefined
  process.stderr.write(`rpd: no line matched ${JSON.stringify(until)} within ${timeout} s\n`)
  return EXIT_FAILURE
}
export default logs

// The fast path hands a flag without a default over as text: check it as oclif would.
function pidFlag(value: unknown): number {
  const pid = Number(value)
  if (!Number.isInteger(pid) || pid < 1)
    throw usageError(`--pid must be a process id, not ${JSON.stringify(value)}`)
  return pid
}
