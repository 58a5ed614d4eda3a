import { EXIT_FAILURE } from '../../errors.js'
import { showLogs } from '../../client/logs.js'
import { type Action, abortOnInterrupt, flagNumber, flagString, flagTimeoutMs } from './action.js'

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
  if (matched) return undefined
  process.stderr.write(`rpd: no line matched ${JSON.stringify(until)} within ${timeout} s\n`)
  return EXIT_FAILURE
}
export default logs
