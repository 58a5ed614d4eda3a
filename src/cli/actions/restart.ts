import { Pool } from '../../client/pool.js'
import { formatRestarted } from '../../present/outcomes.js'
import { type Action, flagNumber } from './action.js'

const restart: Action = async ({ dir, argv, flags, print }) => {
  const result = await new Pool({ stateDir: dir, onLine: print }).restart(argv, {
    wait: !flags['no-wait'],
    timeout: flagNumber(flags, 'timeout'),
  })
  formatRestarted(result).forEach(print)
  return undefined
}
export default restart
