import { signalMaster } from '../../client/signal-master.js'
import { shortSignal } from '../../proc/signals.js'
import type { Action } from './action.js'

const kill: Action = async ({ dir, argv, print }) => {
  const { master, signal } = signalMaster(dir, argv[0] ?? '')
  print(`sent ${shortSignal(signal)} to master ${master.pid}`)
  return undefined
}
export default kill
