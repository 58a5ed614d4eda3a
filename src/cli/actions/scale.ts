import { describeFormation, scalePool } from '../../client/apply-pool.js'
import { type Action, flagNumber } from './action.js'

const scale: Action = async ({ dir, argv, flags, print }) => {
  const outcome = await scalePool(
    dir,
    argv,
    { wait: !flags['no-wait'], timeoutMs: flagNumber(flags, 'timeout') * 1000 },
    print,
  )
  const formation = describeFormation(outcome.pool.formation, outcome.pool.bounds)
  for (const group of outcome.manual ?? [])
    print(
      `${group} is manual now, fixed at ${outcome.pool.formation[group]} (rpd scale ${group}=MIN..MAX makes it automatic again)`,
    )
  if (outcome.kind === 'unchanged') print(`no change: the formation is already ${formation}`)
  else if (outcome.kind === 'saved') print(`not running: saved ${formation} for the next rpd start`)
  else
    print(
      `${outcome.kind === 'applied' ? 'applied' : 'sent'} generation ${outcome.pool.generation}: ${formation}`,
    )
  return undefined
}
export default scale
