import { restartPool } from '../../client/apply-pool.js'
import { type Action, flagTimeoutMs } from './action.js'

const restart: Action = async ({ dir, argv, flags, print }) => {
  const outcome = await restartPool(
    dir,
    argv,
    { wait: !flags['no-wait'], timeoutMs: flagTimeoutMs(flags) },
    print,
  )
  print(outcome.kind === 'applied' ? 'restarted' : 'restart requested')
  return undefined
}
export default restart
