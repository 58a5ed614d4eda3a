import { Pool } from '../../client/pool.js'
import { formatReloaded } from '../../present/outcomes.js'
import { type Action, flagNumber } from './action.js'

const reload: Action = async ({ dir, flags, print }) => {
  const result = await new Pool({ stateDir: dir, onLine: print }).reload({
    wait: !flags['no-wait'],
    timeout: flagNumber(flags, 'timeout'),
  })
  formatReloaded(result).forEach(print)
  return undefined
}
export default reload
