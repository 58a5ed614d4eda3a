import { Pool } from '../../client/pool.js'
import { formatResumed } from '../../present/outcomes.js'
import type { Action } from './action.js'

const resume: Action = async ({ dir, print }) => {
  formatResumed(await new Pool({ stateDir: dir }).resume()).forEach(print)
  return undefined
}
export default resume
