import { Pool } from '../../client/pool.js'
import { formatScaled } from '../../present/outcomes.js'
import { parseChanges } from '../../state/formation.js'
import { type Action, flagNumber, flagString, fleetRedis } from './action.js'
import { liveProgress } from './live-progress.js'

const scale: Action = async (input) => {
  const { dir, argv, flags, print } = input
  const fleet = flagString(flags, 'fleet')
  if (fleet) {
    const { describeFleetFormation, scaleFleet } = await import('../../client/fleet-client.js')
    const formation = await scaleFleet({ fleet, redis: fleetRedis(flags) }, argv)
    print(`fleet ${fleet} generation ${formation.generation}: ${describeFleetFormation(formation.groups)}`)
    return undefined
  }
  const { refuseFleetGroups } = await import('../../client/fleet-guard.js')
  refuseFleetGroups(
    dir,
    parseChanges(argv).map((change) => change.group),
  )
  const live = liveProgress(input)
  const result = await new Pool({ stateDir: dir, ...live })
    .scale(argv, { wait: !flags['no-wait'], timeout: flagNumber(flags, 'timeout') })
    .finally(live.finish)
  formatScaled(result).forEach(print)
  return undefined
}
export default scale
