// The one fleet check `rpd scale` of a local pool needs, kept apart from the fleet client so that a plain scale
// does not load the fleet's modules.
import { usageError } from '../errors.js'
import { readPool } from '../state/pool-file.js'
import { readStatusFile } from '../state/status-file.js'
import { ensureStateDir } from '../state/state-dir.js'

// A fleet member's groups belong to the fleet: changing one here would be undone by the next share.
export function refuseFleetGroups(dir: string, groups: readonly string[]): void {
  const paths = ensureStateDir(dir)
  const pool = readPool(paths)
  if (!pool?.fleet) return
  const fleetGroups = Object.keys(readStatusFile(paths)?.fleet?.groups ?? {})
  const taken = groups.find((group) => fleetGroups.includes(group))
  if (taken)
    throw usageError(
      `${taken} belongs to fleet ${pool.fleet.name}: change it for every member with rpd scale --fleet ${pool.fleet.name} --redis ${pool.redis} ${taken}=N`,
    )
}
