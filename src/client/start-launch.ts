// The first steps of a start, kept light on purpose: refuse bad input, make the state directory, and launch
// the master held (src/master/held-start.ts), so that the master's boot overlaps the loading of the rest of
// start and its work under the lock. Nothing here imports more than it must.
import fs from 'node:fs'
import { EXIT_FAILURE, RpdError, errorMessage, usageError } from '../errors.js'
import { parseSpec } from '../state/formation.js'
import { findMaster } from '../state/master-pid.js'
import { ensureStateDir, type StatePaths } from '../state/state-dir.js'
import { logicalCwd } from '../state/working-dir.js'
import { parseSignal } from '../proc/signals.js'
import { hasSetpriv } from '../master/worker-command.js'
import { type HeldMaster, launchHeldMaster } from './daemon.js'
import type { Print } from './pool-wait.js'

// What startPool needs of these options.
export interface LaunchOptions {
  specs?: string[]
  stopSignal?: string
  metrics?: string
  interval?: string
  foreground?: boolean
  cwd?: string
}

export interface PreparedStart {
  paths: StatePaths
  // The master, booting and held; absent for `rpd run` and where a master was already running.
  held?: HeldMaster
}

// Bad input is refused before anything is created or looked up; then the state directory and the master.
export async function prepareStart(
  dir: string,
  options: LaunchOptions,
  print: Print,
): Promise<PreparedStart> {
  if (options.specs?.length) parseSpec(options.specs)
  if (options.stopSignal) parseSignal(options.stopSignal)
  if (options.metrics) await parseListenOrRefuse(options.metrics)
  if (options.interval !== undefined) parseInterval(options.interval)
  checkPlatform(print)
  const paths = ensureStateDir(dir)
  // A master already running makes this start fail under the lock: none is launched for it.
  const held =
    options.foreground || findMaster(paths).running
      ? undefined
      : launchHeldMaster(paths, options.cwd ?? logicalCwd())
  return { paths, held }
}

// rpd proves which processes are its own from /proc (start times, environments): without it, it would signal
// blind, so it refuses before anything is spawned. Without setpriv, workers cannot be tied to the master's life.
export function checkPlatform(print: Print, procDir = '/proc'): void {
  if (!fs.existsSync(`${procDir}/self/stat`))
    throw new RpdError(
      `${procDir} is not available here: rpd needs Linux's /proc to verify the processes it signals (Linux only; in a container, do not hide /proc)`,
      EXIT_FAILURE,
      'START_FAILED',
    )
  if (!hasSetpriv())
    print(
      'rpd: warning: setpriv (util-linux) is not installed: workers will not be told to stop if the master is killed; the next rpd start or stop cleans them up',
    )
}

// --interval: a number of seconds above 0, as Resque's INTERVAL takes it.
export function parseInterval(text: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN
  if (!(seconds > 0) || seconds > MAX_INTERVAL_S)
    throw usageError(
      `--interval ${JSON.stringify(text)} is not a number of seconds between 0 and ${MAX_INTERVAL_S}: e.g. --interval 0.5`,
    )
  return seconds
}

// A day: a longer nap is a typo, and Node's timers cannot take much more.
const MAX_INTERVAL_S = 86_400

// The metrics server (and node:http with it) loads only for a start that asks for one.
async function parseListenOrRefuse(text: string): Promise<void> {
  const { parseListen } = await import('../present/metrics-server.js')
  try {
    parseListen(text)
  } catch (error) {
    throw usageError(`--metrics: ${errorMessage(error)}`)
  }
}
