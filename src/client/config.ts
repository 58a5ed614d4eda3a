import YAML from 'yaml'
import { EXIT_FAILURE, RpdError } from '../errors.js'
import type { Formation } from '../state/formation.js'
import { type PoolConfig, readPool } from '../state/pool-file.js'
import { inspectStateDir, statePaths } from '../state/state-dir.js'

// What a user set: pool.yml less the bookkeeping only the master needs (restart epochs).
export interface PublicConfig {
  generation: number
  formation: Formation
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
    formation: pool.formation,
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

// The saved pool as YAML, or the state files' paths (the seed's config and config_path).
export function showConfig(dir: string, options: { paths?: boolean } = {}): string[] {
  const paths = statePaths(dir)
  if (options.paths)
    return [
      `state directory: ${paths.dir}`,
      `pool.yml: ${paths.pool}`,
      `master.pid: ${paths.pid}`,
      `status.json: ${paths.status}`,
      `master.log: ${paths.log}`,
    ]
  const pool = inspectStateDir(dir) ? readPool(paths) : undefined
  if (!pool)
    throw new RpdError(
      `no pool saved in ${dir}: start one with rpd start, or save one with rpd scale`,
      EXIT_FAILURE,
      'NO_POOL',
    )
  return YAML.stringify(publicConfig(pool)).trimEnd().split('\n')
}
