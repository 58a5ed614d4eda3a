import { Pool } from '../../client/pool.js'
import { formatPaused } from '../../present/outcomes.js'
import type { Action } from './action.js'

const pause: Action = async ({ dir, print }) => {
  formatPaused(await new Pool({ stateDir: dir }).pause()).forEach(print)
  return undefined
}
export default pause
