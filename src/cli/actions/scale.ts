import { describeFormation, scalePool } from '../../client/apply-pool.js'
import { parseChanges } from '../../state/formation.js'
import { type Action, flagNumber, flagString } from './action.js'

const scale: Action = async ({ dir, argv, flags, print }) => {
  const fleet = flagString(flags, 'fleet')
  if (fleet) {
    const { describeFleetFormation, scaleFleet } = await import('../../client/fleet-client.js')
    const formation = await scaleFleet({ fleet, redis: fleetRedis(flags) }, argv)
    print(`fleet ${fleet} generation ${formation.generation}: ${describeFleetFormation(formation.groups)}`)
    return undefined
  }
  const { refuseFleetGroups } = await import('../../client/fleet-client.js')
  refuseFleetGroups(
    dir,
    parseChanges(argv).map((change) => change.group),
  )
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
export function fleetRedis(flags: Record<string, unknown>): string {
  return flagString(flags, 'redis') ?? (process.env.REDIS_URL || 'redis://127.0.0.1:6379')
}

export default scale
