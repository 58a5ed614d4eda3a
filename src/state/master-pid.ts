import fs from 'node:fs'
import { writeFileAtomic, readFileIfExists } from './atomic-file.js'
import {
  type ProcessIdentity,
  isAlive,
  isPlausiblePid,
  readCmdline,
  readProcStat,
  readEnviron,
} from '../proc/process-identity.js'
import { isMasterCmdline } from '../paths.js'
import type { StatePaths } from './state-dir.js'

export type MasterLookup =
  { running: true; master: ProcessIdentity } | { running: false; found?: string; master?: ProcessIdentity }

// master.pid: the pid alone on the first line (for other tools), the start time on the second.
export function writeMasterPid(paths: StatePaths, identity: ProcessIdentity): void {
  writeFileAtomic(paths.pid, `${identity.pid}\n${identity.startTime}\n`)
}

export function parseMasterPid(text: string): ProcessIdentity | undefined {
  const [pidLine, startLine] = text.split('\n')
  if (!/^\d+$/.test(pidLine?.trim() ?? '') || !/^\d+$/.test(startLine?.trim() ?? '')) return undefined
  const pid = Number(pidLine.trim())
  return isPlausiblePid(pid) ? { pid, startTime: startLine.trim() } : undefined
}

// Finds a running master; when master.pid is stale or garbage, says what was found instead.
export function findMaster(paths: StatePaths): MasterLookup {
  let text: string | undefined
  try {
    text = readFileIfExists(paths.pid)
  } catch (error) {
    return { running: false, found: `${paths.pid} is unreadable (${(error as Error).message})` }
  }
  if (text === undefined) return { running: false }
  const master = parseMasterPid(text)
  if (!master) return { running: false, found: `${paths.pid} holds no valid pid and start time` }
  if (isAlive(master) && isMasterOf(master.pid, paths.dir)) return { running: true, master }
  return {
    running: false,
    found: `${paths.pid} names pid ${master.pid}, which is not this pool's master (dead or reused)`,
    master,
  }
}

// A master shows its title, or (in its first moments) its entry file, and was started for this state
// directory: a stranger with a forged start time, or another pool's master, is neither.
export function isMasterOf(pid: number, dir: string): boolean {
  return isMasterCmdline(readCmdline(pid)) && readEnviron(pid)?.RPD_STATE_DIR === dir
}

export function removeMasterPid(paths: StatePaths, expected?: ProcessIdentity): void {
  if (expected) {
    const current = parseMasterPid(readFileIfExists(paths.pid) ?? '')
    if (!current || current.pid !== expected.pid || current.startTime !== expected.startTime) return
  }
  fs.rmSync(paths.pid, { force: true })
}

const HALTED_STATES: Record<string, string> = { T: 'T (stopped)', t: 't (tracing stop)' }

// Why a live master cannot act on a signal or write its status (SIGSTOPped, held by a debugger), from its
// state in /proc; undefined while it runs.
export function masterNotResponding(master: ProcessIdentity): string | undefined {
  const state = readProcStat(master.pid)?.state
  const halted = state === undefined ? undefined : HALTED_STATES[state]
  return halted
    ? `the master ${master.pid} is not responding: its state is ${halted} in /proc/${master.pid}/stat; kill -CONT ${master.pid} resumes it`
    : undefined
}
