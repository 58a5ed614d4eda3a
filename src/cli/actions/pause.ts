import { signalMaster } from '../../client/signal-master.js'
import type { Action } from './action.js'

const pause: Action = async ({ dir, print }) => {
  const { master } = signalMaster(dir, 'USR2')
  print(`paused (sent USR2 through master ${master.pid}); rpd resume goes on`)
  return undefined
}
export default pause
