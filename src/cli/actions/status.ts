import { reportStatus } from '../../client/pool-status.js'
import { type Action, flagString } from './action.js'
import { fleetRedis } from './scale.js'

const status: Action = async ({ dir, flags, print }) => {
  const fleet = flagString(flags, 'fleet')
  if (!fleet) return (await reportStatus(dir, Boolean(flags.json), print)) || undefined
  const { formatFleetStatus, readFleetStatus } = await import('../../client/fleet-client.js')
  const status = await readFleetStatus({ fleet, redis: fleetRedis(flags) })
  if (flags.json) print(JSON.stringify(status, null, 2))
  else formatFleetStatus(status).forEach(print)
  return status.members.length ? undefined : 3
}
export default status
