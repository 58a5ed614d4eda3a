import { usageError } from '../../errors.js'
import { noMatchError, showLogs } from '../../client/logs.js'
import { type Action, abortOnInterrupt, flagNumber, flagString, flagTimeoutMs } from './action.js'

// Streams through the client function itself: Pool.logs() parses each line, and the log is shown as written.
const logs: Action = async ({ dir, flags, print }) => {
  const until = flagString(flags, 'until')
  const timeout = flagNumber(flags, 'timeout')
  const matched = await showLogs(
    dir,
    {
      lines: flagNumber(flags, 'lines'),
      follow: Boolean(flags.follow),
      until,
      timeoutMs: flagTimeoutMs(flags),
      signal: abortOnInterrupt(),
      json: Boolean(flags.json),
      grep: flagString(flags, 'grep'),
      group: flagString(flags, 'group'),
      pid: flags.pid === undefined ? undefined : pidFlag(flags.pid),
    },
    print,
  )
  if (!matched) throw noMatchError(until, timeout)
  return undefined
}
export default logs

// The fast path hands a flag without a default over as text: check it as oclif would.
function pidFlag(value: unknown): number {
  const pid = Number(value)
  if (!Number.isInteger(pid) || pid < 1)
    throw usageError(`--pid must be a process id, not ${JSON.stringify(value)}`)
  return pid
}
