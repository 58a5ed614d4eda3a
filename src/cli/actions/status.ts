import { EXIT_NOT_RUNNING } from '../../errors.js'
import { readFullStatus, readStatusWithTree, statusJson } from '../../client/pool-status.js'
import { type Action, flagString, fleetRedis } from './action.js'

// Exit 3 when no pool runs (or, with --fleet, no member is alive), so scripts can test for it.
// `status --json` loads only what reads the status: scripts poll it, so its start-up is kept small.
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
    const json = statusJson(await readFullStatus(dir))
    print(JSON.stringify(json, null, 2))
    return json.running ? undefined : EXIT_NOT_RUNNING
  }
  const { formatStatus } = await import('../../present/status-text.js')
  const status = await readStatusWithTree(dir)
  formatStatus(status).forEach(print)
  return status.running ? undefined : EXIT_NOT_RUNNING
}
export default status
