import { signalMaster } from '../../client/signal-master.js'
import type { Action } from './action.js'

const resume: Action = async ({ dir, print }) => {
  const { master } = signalMaster(dir, 'CONT')
  print(`resumed (sent CONT through master ${master.pid})`)
  return undefined
}
export default resume
