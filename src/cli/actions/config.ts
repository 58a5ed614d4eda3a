import { showConfig } from '../../client/config.js'
import type { Action } from './action.js'

const config: Action = async ({ dir, flags, print }) => {
  showConfig(dir, { paths: Boolean(flags.path) }).forEach(print)
  return undefined
}
export default config
