import { Pool } from '../../client/pool.js'
import { formatConfig } from '../../present/config-text.js'
import { formatStatePaths } from '../../present/outcomes.js'
import { statePaths } from '../../state/state-dir.js'
import type { Action } from './action.js'

const config: Action = async ({ dir, flags, print }) => {
  const lines = flags.path
    ? formatStatePaths(statePaths(dir))
    : formatConfig(await new Pool({ stateDir: dir }).config())
  lines.forEach(print)
  return undefined
}
export default config
