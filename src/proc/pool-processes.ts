import fs from 'node:fs'
import {
  type ProcessIdentity,
  isAlive,
  parseEnviron,
  readCmdline,
  readProcStat,
  signalVerified,
} from './process-identity.js'

// A process that carries a pool's marks in its environment: started by one of its masters, or by such a process.
export interface PoolProcess extends ProcessIdentity {
  pgrp: number
  ppid: number
  // The master that started it (or its ancestor worker).
  masterPid: number
  queues?: string
  command: string
}

// Proof of membership: the master sets both in every worker's environment, and children inherit them.
// A user's shell that exports RPD_STATE_DIR lacks RPD_MASTER_PID, so it is never taken for a worker.
export function isPoolEnviron(env: Readonly<Record<string, string>> | undefined, dir: string): boolean {
  return env !== undefined && env.RPD_STATE_DIR === dir && /^[1-9]\d*$/.test(env.RPD_MASTER_PID ?? '')
}

// Pids of this process and its ancestors: an rpd run from inside a worker must not stop itself.
function selfAndAncestors(): Set<number> {
  const mine = new Set<number>()
  for (let pid = process.pid; pid > 1 && !mine.has(pid); pid = readProcStat(pid)?.ppid ?? 0) mine.add(pid)
  return mine
}

// One buffer for every environment read, grown to the largest seen.
let environBuffer = Buffer.alloc(64 * 1024)

// The raw environment of a process (NUL-separated), or undefined when it cannot be read. The bytes are only
// valid until the next call.
function readEnvironBytes(pid: string): Buffer | undefined {
  let fd: number
  try {
    fd = fs.openSync(`/proc/${pid}/environ`, 'r')
  } catch {
    return undefined
  }
  try {
    let length = 0
    for (;;) {
      if (length === environBuffer.length) {
        const bigger = Buffer.alloc(environBuffer.length * 2)
        environBuffer.copy(bigger)
        environBuffer = bigger
      }
      const read = fs.readSync(fd, environBuffer, length, environBuffer.length - length, null)
      if (read === 0) return environBuffer.subarray(0, length)
      length += read
    }
  } catch {
    return undefined
  } finally {
    fs.closeSync(fd)
  }
}

// Whether the NUL-separated environment holds the entry exactly (`RPD_STATE_DIR=/srv/app/.rpd`).
function hasEntry(environ: Buffer, entry: Buffer): boolean {
  for (let at = environ.indexOf(entry); at >= 0; at = environ.indexOf(entry, at + 1)) {
    const end = at + entry.length
    if ((at === 0 || environ[at - 1] === 0) && (end === environ.length || environ[end] === 0)) return true
  }
  return false
}

// Every live process proved to belong to the pool in dir, found by scanning /proc (not by what status.json
// lists): workers spawned as a master died, children a worker's shell did not exec, daemons in new sessions.
// Each environment is first searched as bytes for the state dir's entry; only a process that has it is parsed.
export function findPoolProcesses(dir: string): PoolProcess[] {
  const entry = Buffer.from(`RPD_STATE_DIR=${dir}`)
  let mine: Set<number> | undefined
  const found: PoolProcess[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue
    const environ = readEnvironBytes(name)
    if (!environ || !hasEntry(environ, entry)) continue
    const pid = Number(name)
    mine ??= selfAndAncestors()
    if (mine.has(pid)) continue
    const env = parseEnviron(environ.toString('utf8'))
    if (!isPoolEnviron(env, dir)) continue
    const stat = readProcStat(pid)
    if (!stat || stat.state === 'Z') continue
    found.push({
      pid,
      startTime: stat.startTime,
      pgrp: stat.pgrp,
      ppid: stat.ppid,
      masterPid: Number(env.RPD_MASTER_PID),
      queues: env.QUEUE,
      command: readCmdline(pid),
    })
  }
  return found
}

// Ends each process select() finds (verified by pid and start time): TERM, then KILL to what is left after
// graceMs. Looked for again after KILL, so a child forked meanwhile does not escape.
export async function stopPoolProcesses(select: () => PoolProcess[], graceMs: number): Promise<void> {
  const first = select()
  for (const proc of first) signalVerified(proc, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && first.some(isAlive)) await new Promise((r) => setTimeout(r, 100))
  for (let round = 0; round < 5; round++) {
    const left = select()
    if (left.length === 0) return
    for (const proc of left) signalVerified(proc, 'SIGKILL')
    await new Promise((r) => setTimeout(r, 50))
  }
}
