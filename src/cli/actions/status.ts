import { EXIT_NOT_RUNNING } from '../../errors.js'
import { Pool } from '../../client/pool.js'
import { readStatusWithTree } from '../../client/pool-status.js'
import { formatStatus, formatStatusJson } from '../../present/status-text.js'
import { type Action, flagString } from './action.js'
import { fleetRedis } from './scale.js'

// Exit 3 when no pool runs (or, with --fleet, no member is alive), so scripts can test for it.
const status: Action = async ({ dir, flags, print }) => {
  const fleet = flagString(flags, 'fleet')
  if (fleet) {
    const { formatFleetStatus, readFleetStatus } = await import('../../client/fleet-client.js')
    const status = await readFleetStatus({ fleet, redis: fleetRedis(flags) })
    if (flags.json) print(JSON.stringify(status, null, 2))
    else formatFleetStatus(status).forEach(print)
    return status.members.length ? undefined : EXIT_NOT_RUNNING
  }
  if (flags.json) {
    const json = await new Pool({ stateDir: dir }).status()
    formatStatusJson(json).forEach(print)
    return json.running ? undefined : EXIT_NOT_RUNNING
  }
  const status = await readStatusWithTree(dir)
  formatStatus(status).forEach(print)
  return status.running ? undefined : EXIT_NOT_RUNNING
}
export default status
