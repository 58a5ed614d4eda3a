import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import { MASTER_ENTRY } from '../paths.js'
import type { StatePaths } from '../state/state-dir.js'
import { FOREGROUND_ENV } from '../master/foreground.js'
import { HELD_ENV, releaseLine } from '../master/held-start.js'
import { reapingArgv } from '../proc/subreaper.js'
import { openLogForAppend } from '../state/log-file.js'
import { deferExtraCa } from '../proc/extra-ca.js'

// Node can only write a process title over the original arguments: leave room for a long `managing [...]`.
const TITLE_ROOM = 8192

// A master started ahead of its pool.yml, held before it reads it.
export interface HeldMaster {
  pid: number
  // pool.yml is written: go on and run it (the same document, as JSON).
  release(poolDocument: Record<string, unknown>): void
  // start gave up: exit without a word. Also what happens when the process that launched it ends.
  cancel(): void
}

// Starts the master detached (its own session, stdout and stderr appended to master.log) and held: it loads
// its code, some 50 ms of a start, while `rpd start` takes the lock and writes pool.yml, then waits for the
// word on its stdin, a pipe from here.
export function launchHeldMaster(paths: StatePaths, cwd: string): HeldMaster {
  const created = !fs.existsSync(paths.log)
  const logFd = openLogForAppend(paths.log)
  try {
    const child = spawn(process.execPath, [MASTER_ENTRY, paths.dir, ' '.repeat(TITLE_ROOM)], {
      cwd,
      detached: true,
      // Proof of membership: a master is this state directory's only if its environment says so.
      env: deferExtraCa({ ...process.env, RPD_STATE_DIR: paths.dir, [HELD_ENV]: '1' }),
      stdio: ['pipe', logFd, logFd],
    })
    child.on('error', () => undefined)
    child.unref()
    const word = child.stdin
    if (child.pid === undefined || !word) throw new Error(`cannot start ${process.execPath}`)
    // A master that died meanwhile closes the pipe: the error is its death, which start reports.
    word.on('error', () => undefined)
    let released = false
    return {
      pid: child.pid,
      release: (poolDocument) => {
        released = true
        word.end(releaseLine(poolDocument))
      },
      cancel: () => {
        word.destroy()
        // A start that failed leaves no trace: not even the empty master.log opened for this master.
        if (!released && created) removeIfEmpty(paths.log)
      },
    }
  } finally {
    fs.closeSync(logFd)
  }
}

function removeIfEmpty(file: string): void {
  try {
    if (fs.lstatSync(file).size === 0) fs.unlinkSync(file)
  } catch {
    // Gone already, or not ours to remove.
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
