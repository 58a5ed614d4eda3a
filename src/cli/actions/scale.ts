import { Pool } from '../../client/pool.js'
import { formatScaled } from '../../present/outcomes.js'
import { type Action, flagNumber } from './action.js'

const scale: Action = async ({ dir, argv, flags, print }) => {
  const result = await new Pool({ stateDir: dir, onLine: print }).scale(argv, {
    wait: !flags['no-wait'],
    timeout: flagNumber(flags, 'timeout'),
  })
  formatScaled(result).forEach(print)
  return undefined
}
export default scale
