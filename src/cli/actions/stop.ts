import { Pool } from '../../client/pool.js'
import { formatStopped } from '../../present/outcomes.js'
import { type Action, abortOnInterrupt, flagNumber } from './action.js'
import { liveProgress } from './live-progress.js'

const stop: Action = async (input) => {
  const { dir, flags, print } = input
  const live = liveProgress(input)
  const outcome = await new Pool({ stateDir: dir, ...live })
    .stop({ timeout: flagNumber(flags, 'timeout'), force: Boolean(flags.force), signal: abortOnInterrupt() })
    .finally(live.finish)
  formatStopped(outcome).forEach(print)
  return undefined
}
export default stop
