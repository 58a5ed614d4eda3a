import { Pool } from '../../client/pool.js'
import { formatStopped } from '../../present/outcomes.js'
import { type Action, abortOnInterrupt, flagNumber } from './action.js'

const stop: Action = async ({ dir, flags, print }) => {
  const outcome = await new Pool({ stateDir: dir, onLine: print }).stop({
    timeout: flagNumber(flags, 'timeout'),
    force: Boolean(flags.force),
    signal: abortOnInterrupt(),
  })
  formatStopped(outcome).forEach(print)
  return undefined
}
export default stop
