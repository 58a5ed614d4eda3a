import {
  type AutoscaleConfig,
  type FleetConfig,
  type GuardConfig,
  type PoolConfig,
  poolDocument,
} from '../state/pool-file.js'
import type { LogFormat } from '../state/log-file.js'

// What a user set: pool.yml less the bookkeeping only the master needs (restart epochs).
export interface PublicConfig {
  generation: number
  // Counts, and automatic groups as their range (`images: 0..8`).
  formation: Record<string, number | string>
  autoscale?: AutoscaleConfig
  command?: string
  jobs?: string
  redis?: string
  namespace?: string
  stopSignal: string
  app: string
  cwd: string
  configFile?: string
  environment?: string
  interval?: number
  guards?: GuardConfig
  schedules?: string[]
  timezone?: string
  metrics?: string
  logFormat?: LogFormat
  fleet?: FleetConfig
}

// The same document pool.yml is written from, so `rpd config` shows every setting that is set.
export function publicConfig(pool: PoolConfig): PublicConfig {
  const config = poolDocument(pool)
  delete config.restartEpochs
  return config as unknown as PublicConfig
}
