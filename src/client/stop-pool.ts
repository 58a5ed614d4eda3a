import { unregisterPool } from '../state/pool-registry.js'
import fs from 'node:fs'
import { EXIT_FAILURE, RpdError } from '../errors.js'
import { LogReader, follow, logSize } from '../state/log-tail.js'
import { findMaster, masterNotResponding, removeMasterPid } from '../state/master-pid.js'
import { findLeftovers, findOrphans, isPoolWorker } from './pool-status.js'
import { stopPoolProcesses } from '../proc/pool-processes.js'
import type { Print } from './pool-wait.js'
import { type OnProgress, measureProgress, reportChanges } from './progress-report.js'
import {
  type ProcessIdentity,
  groupsAlive,
  isAlive,
  signalGroupVerified,
  signalVerified,
} from '../proc/process-identity.js'
import { type StatePaths, inspectStateDir, statePaths } from '../state/state-dir.js'
import { readStatusFile } from '../state/status-file.js'

export const STOP_TIMEOUT_MS = 60_000
// After the timeout: how long TERM gets before KILL.
export const ESCALATE_GRACE_MS = 5_000
const LEFTOVER_GRACE_MS = 10_000

export interface StopOptions {
  timeoutMs?: number
  force?: boolean
  signal?: AbortSignal
  // Told how many workers are still stopping, and how many of them busy, while stop waits.
  onProgress?: OnProgress
}

export type StopOutcome = 'stopped' | 'not running'

// The workers status.json names that are still this pool's (verified, so a stale file names no stranger).
function workerIdentities(dir: string): ProcessIdentity[] {
  return (readStatusFile(statePaths(dir))?.workers ?? []).filter(
    (w) => w.state !== 'backoff' && isPoolWorker(w, dir),
  )
}

function everythingGone(master: ProcessIdentity, workers: readonly ProcessIdentity[]): boolean {
  return !isAlive(master) && !workers.some(isAlive) && !groupsAlive(workers.map((w) => w.pid))
}

async function waitGone(
  dir: string,
  master: ProcessIdentity,
  reader: LogReader,
  print: Print,
  timeoutMs: number,
  signal?: AbortSignal,
  onProgress?: OnProgress,
) {
  const outcome = await follow({
    dir,
    reader,
    onLine: print,
    timeoutMs,
    signal,
    check: () => {
      if (everythingGone(master, workerIdentities(dir))) return true
      const status = onProgress && readStatusFile(statePaths(dir))
      if (status?.pid === master.pid) onProgress?.(measureProgress(status, 'stop'))
      return undefined
    },
    // The master removes master.pid in its last moments; its exit itself makes no file event.
    soon: () => !fs.existsSync(statePaths(dir).pid),
  })
  return outcome.result === true
}

// Stops workers a dead master left: the stop signal, then TERM (a Resque worker records its job as failed),
// then KILL of each one's process group.
// KILL for a worker's whole process group, or for the worker alone if it no longer leads one.
function killWorkerGroup(worker: ProcessIdentity): void {
  if (!signalGroupVerified(worker, 'SIGKILL')) signalVerified(worker, 'SIGKILL')
}

export async function stopLeftovers(
  workers: readonly ProcessIdentity[],
  stopSignal: NodeJS.Signals = 'SIGQUIT',
) {
  const waitGoneFor = async (ms: number) => {
    const deadline = Date.now() + ms
    while (Date.now() < deadline && workers.some(isAlive)) await new Promise((r) => setTimeout(r, 100))
  }
  for (const worker of workers) signalVerified(worker, stopSignal)
  await waitGoneFor(LEFTOVER_GRACE_MS)
  for (const worker of workers) signalVerified(worker, 'SIGTERM')
  await waitGoneFor(ESCALATE_GRACE_MS)
  workers.forEach(killWorkerGroup)
}

// Whether this very master has begun its shutdown (its status.json says so).
function isStopping(paths: StatePaths, master: ProcessIdentity): boolean {
  const status = readStatusFile(paths)
  return status?.pid === master.pid && status.startTime === master.startTime && status.state === 'stopping'
}

// Ends what the pool's dead masters left outside the workers status.json lists: children a worker's shell did
// not exec, daemons started with setsid, workers spawned as a master was killed.
export async function stopOrphans(dir: string, print: Print): Promise<void> {
  const orphans = findOrphans(dir)
  if (!orphans.length) return
  print(
    `stopping ${orphans.length} processes the pool left outside its workers: ${orphans.map((p) => p.pid).join(', ')}`,
  )
  await stopPoolProcesses(() => findOrphans(dir), ESCALATE_GRACE_MS)
}

// Stops the pool gracefully and follows its shutdown log; after the timeout, escalates: TERM, then KILL.
// Then ends the processes of the pool that outlived their master.
// Either way the pool is no longer noted for `rpd list`.
export async function stopPool(dir: string, options: StopOptions, print: Print): Promise<StopOutcome> {
  if (!inspectStateDir(dir)) return 'not running'
  const outcome = await stopMaster(dir, options, print)
  await stopOrphans(dir, print)
  unregisterPool(dir)
  return outcome
}

async function stopMaster(dir: string, options: StopOptions, print: Print): Promise<StopOutcome> {
  const paths = statePaths(dir)
  const lookup = findMaster(paths)
  if (!lookup.running) {
    const leftovers = findLeftovers(readStatusFile(paths), paths.dir)
    if (leftovers.length) {
      print(
        `the master is gone; stopping ${leftovers.length} workers it left: ${leftovers.map((w) => w.pid).join(', ')}`,
      )
      await stopLeftovers(leftovers)
    }
    return 'not running'
  }
  const master = lookup.master
  const halted = options.force ? undefined : masterNotResponding(master)
  if (halted)
    throw new RpdError(`cannot stop: ${halted}, or rpd stop --force kills it`, EXIT_FAILURE, 'TIMEOUT')
  const reader = new LogReader(paths.log, logSize(paths.log))
  try {
    // The master takes a second QUIT as "escalate": a plain stop of a pool already stopping only waits.
    const first = options.force ? 'SIGTERM' : isStopping(paths, master) ? 0 : 'SIGQUIT'
    if (!signalVerified(master, first)) return 'stopped'
    const timeoutMs = options.timeoutMs ?? STOP_TIMEOUT_MS
    const onProgress = reportChanges(options.onProgress)
    if (await waitGone(dir, master, reader, print, timeoutMs, options.signal, onProgress)) return 'stopped'
    if (options.signal?.aborted)
      throw new RpdError(
        `interrupted; the master ${master.pid} goes on stopping`,
        EXIT_FAILURE,
        'INTERRUPTED',
      )
    print(`rpd: workers still running after ${timeoutMs / 1000} s: escalating to TERM`)
    signalVerified(master, 'SIGQUIT')
    if (await waitGone(dir, master, reader, print, ESCALATE_GRACE_MS, options.signal, onProgress))
      return 'stopped'
    print('rpd: still running: sending KILL to the master and every worker process group')
    signalVerified(master, 'SIGTERM')
    const workers = workerIdentities(dir)
    signalVerified(master, 'SIGKILL')
    workers.forEach(killWorkerGroup)
    if (await waitGone(dir, master, reader, print, ESCALATE_GRACE_MS)) {
      removeMasterPid(paths, master)
      return 'stopped'
    }
    throw new RpdError(`master ${master.pid} or its workers survived KILL; see rpd status`)
  } finally {
    reader.close()
  }
}
