import { stopPool } from '../../client/stop-pool.js'
import { type Action, abortOnInterrupt, flagTimeoutMs } from './action.js'

const stop: Action = async ({ dir, flags, print }) => {
  const outcome = await stopPool(
    dir,
    {
      timeoutMs: flagTimeoutMs(flags),
      force: Boolean(flags.force),
      signal: abortOnInterrupt(),
    },
    print,
  )
  print(outcome)
  return undefined
}
export default stop
