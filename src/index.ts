// rpd as a library: `import { Pool } from 'resque-pool-dynamic'`. Every CLI command is a method of Pool.
export {
  Pool,
  type PoolOptions,
  type StartPoolOptions,
  type StartedPool,
  type WaitOptions,
  type ApplyResult,
  type FormationChanges,
  type LogsOptions,
  type StopOptions,
} from './client/pool.js'
export type { StatusJson, WorkerJson } from './client/pool-status.js'
export type { PoolProgress } from './client/progress-report.js'
export type { PublicConfig } from './client/config.js'
export type { LogLine } from './state/log-file.js'
export { parseLogLine } from './state/log-file.js'
export { type Formation, parseFormation, formatFormation } from './state/formation.js'
export { RpdError, type RpdErrorCode, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_RUNNING } from './errors.js'
export {
  type FleetStatus,
  type FleetMemberStatus,
  type FleetTarget,
  scaleFleet,
  readFleetStatus,
} from './client/fleet-client.js'
