import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { MASTER_ENTRY } from '../paths.js'
import type { StatePaths } from '../state/state-dir.js'

// Node can only write a process title over the original arguments: leave room for a long `managing [...]`.
const TITLE_ROOM = 8192

// Starts the master detached: its own session, stdin from /dev/null, stdout and stderr appended to master.log.
export function launchMaster(paths: StatePaths, cwd: string): number {
  const logFd = fs.openSync(paths.log, 'a', 0o600)
  try {
    const child = spawn(process.execPath, [MASTER_ENTRY, paths.dir, ' '.repeat(TITLE_ROOM)], {
      cwd,
      detached: true,
      // Proof of membership: a master is this state directory's only if its environment says so.
      env: { ...process.env, RPD_STATE_DIR: paths.dir },
      stdio: ['ignore', logFd, logFd],
    })
    child.on('error', () => undefined)
    child.unref()
    if (child.pid === undefined) throw new Error(`cannot start ${process.execPath}`)
    return child.pid
  } finally {
    fs.closeSync(logFd)
  }
}
