import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import { MASTER_ENTRY } from '../paths.js'
import type { StatePaths } from '../state/state-dir.js'
import { FOREGROUND_ENV } from '../master/foreground.js'
import { reapingArgv } from '../proc/subreaper.js'
import { openLogForAppend } from '../state/log-file.js'
import { deferExtraCa } from '../proc/extra-ca.js'

// Node can only write a process title over the original arguments: leave room for a long `managing [...]`.
const TITLE_ROOM = 8192

// Starts the master detached: its own session, stdin from /dev/null, stdout and stderr appended to master.log.
export function launchMaster(paths: StatePaths, cwd: string): number {
  const logFd = openLogForAppend(paths.log)
  try {
    const child = spawn(process.execPath, [MASTER_ENTRY, paths.dir, ' '.repeat(TITLE_ROOM)], {
      cwd,
      detached: true,
      // Proof of membership: a master is this state directory's only if its environment says so.
      env: deferExtraCa({ ...process.env, RPD_STATE_DIR: paths.dir }),
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

// Starts the master for `rpd run`: its log lines on this process's stdout as well as in master.log. It gets
// its own process group, so a terminal's ^C reaches `rpd run` alone, which passes it on once.
export function launchForegroundMaster(
  paths: StatePaths,
  cwd: string,
  print: (line: string) => void,
): ChildProcess {
  const argv = [MASTER_ENTRY, paths.dir, ' '.repeat(TITLE_ROOM)]
  let file = process.execPath
  let args = argv
  let extra: NodeJS.ProcessEnv = {}
  if (process.pid === 1) {
    const reaping = reapingArgv(file, args)
    if (reaping) ({ file, args, env: extra } = reaping)
    else
      print(
        'warning: rpd run is PID 1 and cannot reap orphaned processes here (no perl): run it under an init, e.g. docker run --init',
      )
  }
  const child = spawn(file, args, {
    cwd,
    detached: true,
    env: deferExtraCa({ ...process.env, ...extra, RPD_STATE_DIR: paths.dir, [FOREGROUND_ENV]: '1' }),
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  child.on('error', () => undefined)
  return child
}
