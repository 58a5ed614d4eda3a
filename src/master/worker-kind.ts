import type { ChildProcess } from 'node:child_process'
import { catchesSignal, readCmdline } from '../proc/process-identity.js'
import { busyFromTitle } from '../resque/process-title.js'
import type { JobInfo } from '../state/status-file.js'
import { QuietWatch, hasCommandWorkerStarted, nextStartCheckAt } from './command-started.js'
import type { WorkerArgv } from './worker-command.js'

// What a kind of worker needs to know of its slot.
export interface KindSlot {
  child?: ChildProcess
  startedAt: Date
  ready: boolean
  job: JobInfo | null
}

// The two kinds of worker differ in how the master learns about them: a built-in worker talks over IPC (ready,
// busy, idle, paused), a command worker is read from /proc (its tree going quiet, its Resque title, the
// signals it catches). Everything the master does differently for them is behind this interface.
export interface WorkerKind {
  // Spawned with an IPC channel; its job and pause state are in status.json.
  readonly ipc: boolean
  // Whether a starting worker has started, and when to look again (Infinity: it says so itself).
  hasStarted(slot: KindSlot, now: number): boolean
  nextStartCheck(slot: KindSlot, now: number): number
  // Whether it can be sent USR1/USR2 without ending it.
  takes(slot: KindSlot, signal: NodeJS.Signals): boolean
  // A paused pool has to look again at workers that do not take USR2 yet (they cannot say when they do).
  readonly pollsForPause: boolean
  // Busy with a job (undefined: cannot tell).
  busy(slot: KindSlot): boolean | undefined
  // A worker that exited this way may have left its registration and job in Redis for the master to remove.
  leavesRedisToMaster(retiring: boolean, code: number | null): boolean
}

// The built-in Resque worker: it reports over IPC; one that exits unasked, or with an error, has not unregistered.
const builtin: WorkerKind = {
  ipc: true,
  hasStarted: (slot) => slot.ready,
  nextStartCheck: () => Infinity,
  takes: (slot) => slot.ready,
  pollsForPause: false,
  busy: (slot) => slot.job !== null,
  leavesRedisToMaster: (retiring, code) => !retiring || code !== 0,
}

// A command (`--command`): started once quiet or settled (command-started.ts), busy as its Resque title says,
// taking a signal once /proc shows it caught. Its Redis records are its own.
function commandKind(command: string | undefined, quietWatch: QuietWatch): WorkerKind {
  return {
    ipc: false,
    hasStarted: (slot, now) =>
      slot.child !== undefined &&
      hasCommandWorkerStarted(command, slot.child.pid ?? 0, now - slot.startedAt.getTime(), quietWatch, now),
    nextStartCheck: (slot, now) => nextStartCheckAt(command, slot.startedAt.getTime(), now),
    takes: (slot, signal) => slot.child?.pid !== undefined && catchesSignal(slot.child.pid, signal) !== false,
    pollsForPause: true,
    busy: (slot) => (slot.child?.pid ? busyFromTitle(readCmdline(slot.child.pid)) : undefined),
    leavesRedisToMaster: () => false,
  }
}

export function workerKind(argv: WorkerArgv, command: string | undefined): WorkerKind {
  if (argv.ipc) return builtin
  return commandKind(command, new QuietWatch(argv.file.endsWith('setpriv') ? argv.file : undefined))
}
