import { formationDocument } from '../state/formation.js'
import type { AutoscaleConfig, PoolConfig } from '../state/pool-file.js'

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
}

export function publicConfig(pool: PoolConfig): PublicConfig {
  const config: PublicConfig = {
    generation: pool.generation,
    formation: formationDocument(pool),
    autoscale: Object.keys(pool.autoscale).length ? pool.autoscale : undefined,
    command: pool.command,
    jobs: pool.jobs,
    redis: pool.redis,
    namespace: pool.namespace,
    stopSignal: pool.stopSignal,
    app: pool.app,
    cwd: pool.cwd,
    configFile: pool.configFile,
    environment: pool.environment,
    interval: pool.interval,
  }
  for (const key of Object.keys(config) as (keyof PublicConfig)[])
    if (config[key] === undefined) delete config[key]
  return config
}
