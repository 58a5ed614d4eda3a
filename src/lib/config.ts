import { RpdError } from './errors.js'
import { formatPool, readPool } from './pool-file.js'
import { inspectStateDir, statePaths } from './state-dir.js'

// pool.yml as YAML, or the state files' paths (the seed's config and config_path).
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
    throw new RpdError(`no pool saved in ${dir}: start one with rpd start, or save one with rpd scale`)
  return formatPool(pool).trimEnd().split('\n')
}
