import { describeFormation, reloadPool } from '../../client/apply-pool.js'
import { type Action, flagTimeoutMs } from './action.js'

const reload: Action = async ({ dir, flags, print }) => {
  const outcome = await reloadPool(dir, { wait: !flags['no-wait'], timeoutMs: flagTimeoutMs(flags) }, print)
  print(`reloaded generation ${outcome.pool.generation}: ${describeFormation(outcome.pool.formation)}`)
  return undefined
}
export default reload
