import { Pool } from '../../client/pool.js'
import { formatKilled } from '../../present/outcomes.js'
import type { Action } from './action.js'

const kill: Action = async ({ dir, argv, print }) => {
  formatKilled(await new Pool({ stateDir: dir }).kill(argv[0] ?? '')).forEach(print)
  return undefined
}
export default kill
