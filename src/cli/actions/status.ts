import { EXIT_NOT_RUNNING } from '../../errors.js'
import { Pool } from '../../client/pool.js'
import { readStatusWithTree } from '../../client/pool-status.js'
import { formatStatus, formatStatusJson } from '../../present/status-text.js'
import type { Action } from './action.js'

// Exit 3 when no pool runs, so scripts can test for it.
const status: Action = async ({ dir, flags, print }) => {
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
