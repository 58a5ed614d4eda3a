import fs from 'node:fs'
import path from 'node:path'
import { readCmdline, readProcStat } from '../proc/process-identity.js'

// A command worker that never waits (it polls, or sleeps in a call not in WAIT_SYSCALLS) counts as started once
// it has stayed up this long. A bad command dies sooner, even on a loaded machine where Node takes a few
// hundred ms to load a script that throws.
export const WORKER_SETTLE_MS = 1_000
// Sooner, once it is quiet: from QUIET_MIN_MS on, a worker whose whole process tree has exec'd its command
// and then used no CPU for QUIET_FOR_MS is waiting for work. Commands that cannot run are busy until they
// die: a shell looking up a missing program, Node or Ruby loading a script that throws, a syntax error.
export const QUIET_MIN_MS = 20
export const QUIET_FOR_MS = 15
// How often a starting worker is looked at for quiet.
export const QUIET_POLL_MS = 10
// Sooner still, at any age: a tree whose every process is blocked in a call that waits for the outside
// (epoll_wait, wait4, nanosleep, a read of a socket...) on two readings WAIT_CONFIRM_MS apart, without using
// CPU in between, is waiting for work. A command that cannot run never waits: it runs until it exits.
export const WAIT_CONFIRM_MS = 2
// How often a worker younger than QUIET_MIN_MS is looked at for waiting.
export const WAIT_POLL_MS = 2
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
  const poll = nowMs - startedAtMs < QUIET_MIN_MS ? WAIT_POLL_MS : QUIET_POLL_MS
  return Math.min(settled, nowMs + poll)
}

// One reading of a process tree: CPU time used by all of it, whether every process is asleep, and whether
// every process is blocked in a call that waits for something outside it (WAIT_SYSCALLS).
export interface TreeReading {
  cpuNs: number
  asleep: boolean
  waiting?: boolean
}

// System calls that wait for the outside world, by number (/proc/PID/syscall), on the architectures whose
// tables are known; elsewhere only the quiet window decides. A read counts: a process asleep in it reads a
// pipe, socket or terminal (a read of a file on disk is an uninterruptible sleep, state D, not S).
const WAIT_SYSCALLS: Partial<Record<string, ReadonlySet<number>>> = {
  // read, poll, select, pause, nanosleep, accept, recvfrom, recvmsg, wait4, msgrcv, rt_sigtimedwait,
  // rt_sigsuspend, clock_nanosleep, epoll_wait, waitid, pselect6, ppoll, epoll_pwait, accept4, recvmmsg,
  // epoll_pwait2.
  x64: new Set([0, 7, 23, 34, 35, 43, 45, 47, 61, 70, 128, 130, 230, 232, 247, 270, 271, 281, 288, 299, 441]),
  // epoll_pwait, read, pselect6, ppoll, waitid, nanosleep, clock_nanosleep, rt_sigsuspend, rt_sigtimedwait,
  // msgrcv, accept, recvfrom, recvmsg, accept4, recvmmsg, wait4, epoll_pwait2.
  arm64: new Set([22, 63, 72, 73, 95, 101, 115, 133, 137, 188, 202, 207, 212, 242, 243, 260, 441]),
}
const waitCalls = WAIT_SYSCALLS[process.arch]

// Whether pid is blocked in a waiting call: /proc/PID/syscall starts with the call's number while it is
// blocked in one ("running" or -1 otherwise; unreadable where ptrace is not allowed).
function blockedWaiting(pid: number): boolean {
  if (!waitCalls) return false
  try {
    const text = fs.readFileSync(`/proc/${pid}/syscall`, 'utf8')
    return waitCalls.has(Number(text.slice(0, text.indexOf(' '))))
  } catch {
    return false
  }
}

// Whether two readings show a tree that stayed blocked waiting, using no CPU, for at least WAIT_CONFIRM_MS.
export function waitingBetween(
  before: { at: number; reading: TreeReading },
  after: { at: number; reading: TreeReading },
): boolean {
  return (
    after.at - before.at >= WAIT_CONFIRM_MS &&
    before.reading.waiting === true &&
    after.reading.waiting === true &&
    after.reading.cpuNs === before.reading.cpuNs
  )
}

// The master's own command line: a fork of it that has not exec'd yet still shows it.
function ownCmdline(): string {
  try {
    return fs.readFileSync('/proc/self/cmdline', 'latin1')
  } catch {
    return ''
  }
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

// The state letter of a /proc stat line (after the parenthesised command name).
function stateOf(stat: string): string {
  const end = stat.lastIndexOf(')')
  return stat.slice(end + 2, end + 3)
}

// One process of a tree: CPU used by all its threads, whether all of them are asleep, and its children.
function readProcess(pid: number): { cpuNs: number; asleep: boolean; children: number[] } {
  const tasks = fs.readdirSync(`/proc/${pid}/task`)
  let cpuNs = 0
  let asleep = true
  const children: number[] = []
  for (const task of tasks) {
    const base = `/proc/${pid}/task/${task}`
    try {
      cpuNs += Number(fs.readFileSync(`${base}/schedstat`, 'utf8').split(' ')[0])
      if (stateOf(fs.readFileSync(`${base}/stat`, 'utf8')) !== 'S') asleep = false
      const text = fs.readFileSync(`${base}/children`, 'utf8').trim()
      if (text) for (const child of text.split(' ')) children.push(Number(child))
    } catch {
      // A thread that ended while it was read: the process is changing, not quiet.
      asleep = false
    }
  }
  return { cpuNs, asleep, children }
}

// CPU nanoseconds (schedstat, every thread) and states of pid and everything below it; undefined where /proc
// cannot say (no schedstat in this kernel, or the worker still the exec guard), which leaves the settle time
// to decide. Waiting: besides every thread asleep, each process's main thread is blocked in a WAIT_SYSCALLS
// call (its other threads may sleep anywhere: a thread pool waits on a futex).
export function readTree(pid: number, guard: string | undefined): TreeReading | undefined {
  try {
    // Still the master's fork, or the exec guard: the command itself has not begun.
    // A command that runs Node itself is told from the fork by its command line.
    const exe = fs.readlinkSync(`/proc/${pid}/exe`)
    if (guard && path.basename(exe) === path.basename(guard)) return undefined
    if (exe === process.execPath && fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1') === ownCmdline())
      return undefined
  } catch {
    return undefined
  }
  let cpuNs = 0
  let asleep = true
  let waiting = waitCalls !== undefined
  const queue = [pid]
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    try {
      const one = readProcess(next)
      cpuNs += one.cpuNs
      if (!one.asleep) asleep = false
      else if (waiting && !blockedWaiting(next)) waiting = false
      queue.push(...one.children)
    } catch {
      // A process that ended while it was read: the tree is changing, not quiet.
      if (next === pid) return undefined
      asleep = false
    }
  }
  return Number.isFinite(cpuNs) ? { cpuNs, asleep, waiting: asleep && waiting } : undefined
}

// The master's memory of each starting worker's last tree reading.
export class QuietWatch {
  private readonly last = new Map<number, { at: number; reading: TreeReading }>()

  constructor(private readonly guard: string | undefined) {}

  // Whether pid's tree has been waiting since a reading at least WAIT_CONFIRM_MS ago, or (from QUIET_MIN_MS of
  // age on) quiet since one at least QUIET_FOR_MS ago; records this one when it differs (a reading the same as
  // the last one keeps the last, so that the quiet span can grow).
  quiet(pid: number, now: number, aliveMs = QUIET_MIN_MS): boolean {
    // Workers that died while starting leave entries behind: drop the old ones now and then.
    if (this.last.size > 64)
      for (const [old, entry] of this.last) if (now - entry.at > 5_000) this.last.delete(old)
    const reading = readTree(pid, this.guard)
    if (!reading) {
      this.last.delete(pid)
      return false
    }
    const before = this.last.get(pid)
    const same =
      before &&
      before.reading.asleep &&
      reading.asleep &&
      before.reading.waiting === reading.waiting &&
      before.reading.cpuNs === reading.cpuNs
    if (!same) {
      this.last.set(pid, { at: now, reading })
      return false
    }
    const after = { at: now, reading }
    return waitingBetween(before, after) || (aliveMs >= QUIET_MIN_MS && quietBetween(before, after))
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
    if (!watch || isResqueCommand(command)) return false
    if (!watch.quiet(pid, now, aliveMs)) return false
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
