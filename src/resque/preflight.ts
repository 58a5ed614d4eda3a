import { execFile } from 'node:child_process'
import { RpdError, EXIT_USAGE } from '../errors.js'
import type { PoolConfig } from '../state/pool-file.js'
import { WORKER_ENTRY } from '../paths.js'
import { checkJobsPath } from './jobs-module.js'
import { connectOnce } from './redis-client.js'
import { DEFAULT_REDIS_URL } from './redis-url.js'

// Loading a jobs module runs its code; give it this long before `start` gives up on it.
export const JOBS_LOAD_TIMEOUT_MS = 15_000

// Before the master starts a built-in pool: the jobs module loads (exit 2 if missing or broken) and Redis answers (exit 1).
export async function checkBuiltinPool(pool: PoolConfig): Promise<void> {
  if (!pool.jobs) return
  await checkJobsModule(checkJobsPath(pool.jobs), pool.cwd)
  const redis = await connectOnce(pool.redis ?? DEFAULT_REDIS_URL)
  redis.disconnect()
}

// Imports the module in a child process, as a worker will: its side effects (open sockets, timers) stay out of the CLI.
function checkJobsModule(file: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [WORKER_ENTRY, '--check-jobs', file],
      { cwd, timeout: JOBS_LOAD_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, _stdout, stderr) => {
        if (!error) return resolve()
        const line = String(stderr)
          .split('\n')
          .find((l) => l.trim() !== '')
        if (error.killed)
          reject(
            new RpdError(`jobs module ${file} did not finish loading in ${JOBS_LOAD_TIMEOUT_MS / 1000} s`),
          )
        else
          reject(
            new RpdError(
              line ?? `jobs module ${file} failed to load: ${error.message}`,
              error.code === EXIT_USAGE ? EXIT_USAGE : 1,
            ),
          )
      },
    )
  })
}
