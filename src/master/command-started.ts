import fs from 'node:fs'
import path from 'node:path'
import { readCmdline, readProcStat } from '../proc/process-identity.js'

// A command worker counts as started once it has stayed up this long (a bad command dies sooner).
export const WORKER_SETTLE_MS = 100
// Sooner, once it is quiet: from QUIET_MIN_MS on, a worker whose whole process tree has exec'd its command
// and then used no CPU for QUIET_FOR_MS is waiting for work. Commands that cannot run are busy until they
// die: a shell looking up a missing program, Node or Ruby loading a script that throws, a syntax error.
export const QUIET_MIN_MS = 20
export const QUIET_FOR_MS = 15
// How often a starting worker is looked at for quiet.
export const QUIET_POLL_MS = 10
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

// When the master should look at a starting command worker again: every QUIET_POLL_MS until it settles
// (for quiet), then, for a Resque worker still loading, every REGISTRATION_POLL_MS.
export function nextStartCheckAt(command: string | undefined, startedAtMs: number, nowMs: number): number {
  const settled = startedAtMs + WORKER_SETTLE_MS
  if (settled <= nowMs) return isResqueCommand(command) ? nowMs + REGISTRATION_POLL_MS : settled
  if (isResqueCommand(command)) return settled
  return Math.min(settled, Math.max(startedAtMs + QUIET_MIN_MS, nowMs + QUIET_POLL_MS))
}

// One reading of a process tree: CPU time used by all of it, and whether every process is asleep.
export interface TreeReading {
  cpuNs: number
  asleep: boolean
}

// Whether a tree read `before` and again `after` (at least QUIET_FOR_MS apart) was quiet in between.
export function quietBetween(
  before: { at: number; reading: TreeReading },
  after: { at: number; reading: TreeReading },
): boolean {
  return (
    after.at - before.at >= QUIET_FOR_MS &&
    before.reading.asleep &&
    after.reading.asleep &&
    after.reading.cpuNs === before.reading.cpuNs
  )
}

function childPids(pid: number): number[] {
  const out: number[] = []
  let tasks: string[]
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const task of tasks) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
      if (text) for (const child of text.split(' ')) out.push(Number(child))
    } catch {
      // The thread ended while it was read.
    }
  }
  return out
}

// CPU nanoseconds (schedstat) and states of pid and everything below it; undefined where /proc cannot say
// (no schedstat in this kernel, or the worker still the exec guard), which leaves the settle time to decide.
export function readTree(pid: number, guard: string | undefined): TreeReading | undefined {
  try {
    // Still the master's fork, or the exec guard: the command itself has not begun.
    const exe = fs.readlinkSync(`/proc/${pid}/exe`)
    if (exe === process.execPath || (guard && path.basename(exe) === path.basename(guard))) return undefined
  } catch {
    return undefined
  }
  let cpuNs = 0
  let asleep = true
  const queue = [pid]
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    try {
      cpuNs += Number(fs.readFileSync(`/proc/${next}/schedstat`, 'utf8').split(' ')[0])
      const stat = fs.readFileSync(`/proc/${next}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (state !== 'S') asleep = false
    } catch {
      // A process that ended between the two reads: the tree is changing, not quiet.
      if (next === pid) return undefined
      asleep = false
    }
    queue.push(...childPids(next))
  }
  return Number.isFinite(cpuNs) ? { cpuNs, asleep } : undefined
}

// The master's memory of each starting worker's last tree reading.
export class QuietWatch {
  private readonly last = new Map<number, { at: number; reading: TreeReading }>()

  constructor(private readonly guard: string | undefined) {}

  // Whether pid's tree has been quiet since a reading at least QUIET_FOR_MS ago; records this one when it
  // differs (a reading the same as the last one keeps the last, so that the quiet span can grow).
  quiet(pid: number, now: number): boolean {
    // Workers that died while starting leave entries behind: drop the old ones now and then.
    if (this.last.size > 64)
      for (const [old, entry] of this.last) if (now - entry.at > 5_000) this.last.delete(old)
    const reading = readTree(pid, this.guard)
    if (!reading) {
      this.last.delete(pid)
      return false
    }
    const before = this.last.get(pid)
    const same = before && before.reading.asleep && reading.asleep && before.reading.cpuNs === reading.cpuNs
    if (!same) {
      this.last.set(pid, { at: now, reading })
      return false
    }
    return quietBetween(before, { at: now, reading })
  }

  forget(pid: number): void {
    this.last.delete(pid)
  }
}

export function hasCommandWorkerStarted(
  command: string | undefined,
  pid: number,
  aliveMs: number,
  watch?: QuietWatch,
  now = Date.now(),
): boolean {
  if (aliveMs < WORKER_SETTLE_MS) {
    if (!watch || isResqueCommand(command) || aliveMs < QUIET_MIN_MS) return false
    if (!watch.quiet(pid, now)) return false
    watch.forget(pid)
    return true
  }
  watch?.forget(pid)
  // Gone or a zombie (its exit not yet handled by the loop, which a busy master can be slow to do): not started,
  // however long ago it was spawned.
  const stat = readProcStat(pid)
  if (!stat || stat.state === 'Z') return false
  return commandWorkerStarted(command, readCmdline(pid), aliveMs)
}
