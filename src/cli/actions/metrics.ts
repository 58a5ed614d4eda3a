import { readMetricsSnapshot } from '../../client/metrics-snapshot.js'
import { renderMetrics } from '../../present/metrics.js'
import type { Action } from './action.js'

const metrics: Action = async ({ dir, print }) => {
  for (const line of renderMetrics(await readMetricsSnapshot(dir))
    .trimEnd()
    .split('\n'))
    print(line)
  return undefined
}
export default metrics
