import { readCmdline } from '../proc/process-identity.js'

// A command worker counts as started once it has stayed up this long (a bad command dies sooner).
export const WORKER_SETTLE_MS = 100
// How often a Resque command worker still loading (rake, a Rails app) is looked at again.
export const REGISTRATION_POLL_MS = 100

// A command that runs a Resque worker (`rake resque:work`, `bin/resque`): it says so in its title once registered.
export function isResqueCommand(command: string | undefined): boolean {
  return command !== undefined && /\bresque\b/i.test(command)
}

// Resque's titles once the worker has registered in Redis (before, Ruby shows `ruby .../rake ...` or `Starting`).
export function showsRegisteredTitle(title: string): boolean {
  return /resque-\d[^:\s]*: (Waiting for|Processing|Forked|Paused)\b/.test(title)
}

// Whether a command worker counts as started: a Resque one once its title shows it registered, while
// `rake` still loading (or failing to) is not; any other once it has outlived the settle time.
export function commandWorkerStarted(command: string | undefined, title: string, aliveMs: number): boolean {
  if (aliveMs < WORKER_SETTLE_MS) return false
  return !isResqueCommand(command) || showsRegisteredTitle(title)
}

// When the master should look at a starting command worker again.
export function nextStartCheckAt(command: string | undefined, startedAtMs: number, nowMs: number): number {
  const settled = startedAtMs + WORKER_SETTLE_MS
  return settled > nowMs || !isResqueCommand(command) ? settled : nowMs + REGISTRATION_POLL_MS
}

export function hasCommandWorkerStarted(command: string | undefined, pid: number, aliveMs: number): boolean {
  return commandWorkerStarted(command, aliveMs >= WORKER_SETTLE_MS ? readCmdline(pid) : '', aliveMs)
}
