import { readStatusFile } from '../../state/status-file.js'
import { inspectStateDir, statePaths } from '../../state/state-dir.js'
import type { Action } from './action.js'

// The group names a completion offers: the running pool's (status.json), else the saved formation's.
// Never fails: a completion that cannot find a pool offers nothing.
const completeGroups: Action = async ({ dir, print }) => {
  try {
    const paths = statePaths(dir)
    if (!inspectStateDir(paths.dir)) return undefined
    const status = readStatusFile(paths)
    let groups: string[]
    if (status) groups = [...Object.keys(status.formation), ...status.workers.map((w) => w.queues)]
    else {
      const { readPool } = await import('../../state/pool-file.js')
      groups = Object.keys(readPool(paths)?.formation ?? {})
    }
    ;[...new Set(groups)].sort().forEach(print)
  } catch {
    // a damaged state file: nothing to offer
  }
  return undefined
}
export default completeGroups
