import { describeFormation, scalePool } from '../../client/apply-pool.js'
import { type Action, flagTimeoutMs } from './action.js'

const scale: Action = async ({ dir, argv, flags, print }) => {
  const outcome = await scalePool(
    dir,
    argv,
    { wait: !flags['no-wait'], timeoutMs: flagTimeoutMs(flags) },
    print,
  )
  const formation = describeFormation(outcome.pool.formation)
  if (outcome.kind === 'unchanged') print(`no change: the formation is already ${formation}`)
  else if (outcome.kind === 'saved') print(`not running: saved ${formation} for the next rpd start`)
  else
    print(
      `${outcome.kind === 'applied' ? 'applied' : 'sent'} generation ${outcome.pool.generation}: ${formation}`,
    )
  return undefined
}
export default scale
