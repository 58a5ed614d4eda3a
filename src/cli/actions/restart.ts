import { Pool } from '../../client/pool.js'
import { formatRestarted } from '../../present/outcomes.js'
import { type Action, flagNumber } from './action.js'
import { liveProgress } from './live-progress.js'

const restart: Action = async (input) => {
  const { dir, argv, flags, print } = input
  const live = liveProgress(input)
  const result = await new Pool({ stateDir: dir, ...live })
    .restart(argv, { wait: !flags['no-wait'], timeout: flagNumber(flags, 'timeout') })
    .finally(live.finish)
  formatRestarted(result).forEach(print)
  return undefined
}
export default restart
