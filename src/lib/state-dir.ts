import fs from 'node:fs'
import path from 'node:path'
import { RpdError, errorMessage } from './errors.js'

export const DEFAULT_STATE_DIR = '.rpd'

export interface StatePaths {
  dir: string
  pool: string
  pid: string
  status: string
  log: string
  lock: string
  history: string
}

// --state-dir, else RPD_STATE_DIR, else ./.rpd; always absolute, so the master and every CLI agree.
export function resolveStateDir(flag?: string): string {
  return path.resolve(flag || process.env.RPD_STATE_DIR || DEFAULT_STATE_DIR)
}

export function statePaths(dir: string): StatePaths {
  return {
    dir,
    pool: path.join(dir, 'pool.yml'),
    pid: path.join(dir, 'master.pid'),
    status: path.join(dir, 'status.json'),
    log: path.join(dir, 'master.log'),
    lock: path.join(dir, 'lock'),
    history: path.join(dir, 'shell_history'),
  }
}

// Refuses a directory that another user owns or others may write: its files steer which pids rpd signals.
export function checkStateDir(dir: string, stat: fs.Stats): void {
  if (!stat.isDirectory())
    throw new RpdError(`state directory ${dir} is not a directory: remove it or pick another --state-dir`)
  const uid = process.getuid?.()
  if (uid !== undefined && stat.uid !== uid)
    throw new RpdError(
      `state directory ${dir} is owned by uid ${stat.uid}, not you (uid ${uid}): pick another --state-dir`,
    )
  if (stat.mode & 0o022)
    throw new RpdError(
      `state directory ${dir} is writable by others (mode ${(stat.mode & 0o777).toString(8)}): run chmod 700 ${dir}`,
    )
}

// Checks an existing state directory; returns false when there is none.
export function inspectStateDir(dir: string): boolean {
  let stat: fs.Stats
  try {
    stat = fs.statSync(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new RpdError(`cannot read state directory ${dir}: ${errorMessage(error)}`)
  }
  checkStateDir(dir, stat)
  return true
}

// Creates the state directory (mode 0700) if needed and checks it is safe to use.
export function ensureStateDir(dir: string): StatePaths {
  if (!inspectStateDir(dir)) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? errorMessage(error)
      throw new RpdError(
        `cannot create state directory ${dir} (${code}): pick another --state-dir or fix the parent's permissions`,
      )
    }
    inspectStateDir(dir)
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK)
  } catch {
    throw new RpdError(
      `state directory ${dir} is not writable: fix its permissions or pick another --state-dir`,
    )
  }
  return statePaths(dir)
}
