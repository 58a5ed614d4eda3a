import { reportStatus } from '../../client/pool-status.js'
import type { Action } from './action.js'

const status: Action = async ({ dir, flags, print }) =>
  (await reportStatus(dir, Boolean(flags.json), print)) || undefined
export default status
