import { formatPoolList, listPools } from '../../client/list-pools.js'
import type { Action } from './action.js'

const list: Action = async ({ flags, print }) => {
  const pools = listPools()
  if (flags.json) print(JSON.stringify(pools, null, 2))
  else formatPoolList(pools).forEach(print)
  return undefined
}
export default list
