import fs from 'node:fs'
import path from 'node:path'
import { RpdError, errorMessage, usageError } from '../errors.js'

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

// --state-dir, else RPD_STATE_DIR, else the nearest .rpd in this directory or a parent (as git finds .git),
// else ./.rpd. Always absolute and, where it exists, the real path: every CLI and the master name it alike,
// however it was reached (a symlink, a relative path).
export function resolveStateDir(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string {
  if (flag === '') throw usageError('--state-dir is empty: name a directory, or leave the flag out')
  const given = flag ?? (env.RPD_STATE_DIR || undefined)
  return realDir(
    given !== undefined
      ? path.resolve(cwd, given)
      : (findNearestStateDir(cwd) ?? path.resolve(cwd, DEFAULT_STATE_DIR)),
  )
}

// The nearest existing .rpd directory from cwd upwards.
export function findNearestStateDir(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, DEFAULT_STATE_DIR)
    try {
      if (fs.statSync(candidate).isDirectory()) return candidate
    } catch {
      // not here: look one level up
    }
    if (path.dirname(dir) === dir) return undefined
  }
}

// The real path of a directory that exists (symlinks resolved); the path as given otherwise.
export function realDir(dir: string): string {
  try {
    return fs.realpathSync(dir)
  } catch {
    return dir
  }
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
  dir = realDir(dir)
  try {
    fs.accessSync(dir, fs.constants.W_OK)
  } catch {
    throw new RpdError(
      `state directory ${dir} is not writable: fix its permissions or pick another --state-dir`,
    )
  }
  return statePaths(dir)
}
