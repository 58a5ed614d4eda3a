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
    },
    print,
  )
  if (!matched) throw noMatchError(until, timeout)
  return undefined
}
export default logs
