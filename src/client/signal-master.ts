import { RpdError, EXIT_NOT_RUNNING } from '../errors.js'
import { findMaster } from '../state/master-pid.js'
import { type ProcessIdentity, signalVerified } from '../proc/process-identity.js'
import { parseSignal, shortSignal } from '../proc/signals.js'
import { inspectStateDir, statePaths } from '../state/state-dir.js'

// The running master, verified by pid and start time; a clear error when there is none.
export function requireMaster(dir: string): ProcessIdentity {
  const lookup = inspectStateDir(dir) ? findMaster(statePaths(dir)) : { running: false as const }
  if (lookup.running) return lookup.master
  const found = 'found' in lookup && lookup.found ? ` (${lookup.found})` : ''
  throw new RpdError(`not running${found}: start a pool with rpd start`, EXIT_NOT_RUNNING)
}

// Sends a signal to the verified master: rpd never signals a pid it has not checked.
export function signalMaster(
  dir: string,
  signalName: string,
): { master: ProcessIdentity; signal: NodeJS.Signals } {
  const signal = parseSignal(signalName)
  const master = requireMaster(dir)
  if (!signalVerified(master, signal))
    throw new RpdError(`master ${master.pid} exited before it got ${shortSignal(signal)}`, EXIT_NOT_RUNNING)
  return { master, signal }
}
