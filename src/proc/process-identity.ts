import fs from 'node:fs'
import os from 'node:os'

// A pid plus the process's start time (clock ticks since boot): together they name one process, even after pids wrap.
export interface ProcessIdentity {
  pid: number
  startTime: string
}

export interface ProcStat {
  pid: number
  state: string
  ppid: number
  pgrp: number
  startTime: string
  cpuTicks: number
}

// Parses /proc/PID/stat; the command name may hold spaces and ')', so split after the last ')'.
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')')
  if (close < 0) return undefined
  const fields = text.slice(close + 2).split(' ')
  return {
    pid: Number.parseInt(text, 10),
    state: fields[0],
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    startTime: fields[19],
  }
}

export function readProcStat(pid: number): ProcStat | undefined {
  if (!isPlausiblePid(pid)) return undefined
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

export function isPlausiblePid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 1 && pid < 2 ** 22
}

export function identityOf(pid: number): ProcessIdentity | undefined {
  const stat = readProcStat(pid)
  return stat && stat.state !== 'Z' ? { pid, startTime: stat.startTime } : undefined
}

// True only if this very process still runs: same pid, same start time, not a zombie.
export function isAlive(identity: ProcessIdentity | undefined): boolean {
  if (!identity || !isPlausiblePid(identity.pid)) return false
  const stat = readProcStat(identity.pid)
  return stat !== undefined && stat.state !== 'Z' && stat.startTime === String(identity.startTime)
}

// Signals a process only after checking it is the one we mean; returns whether it was sent.
export function signalVerified(identity: ProcessIdentity, signal: NodeJS.Signals | 0): boolean {
  if (!isAlive(identity)) return false
  try {
    process.kill(identity.pid, signal)
    return true
  } catch {
    return false
  }
}

// Signals the process group that a verified process leads (a worker is the leader of its own group).
export function signalGroupVerified(identity: ProcessIdentity, signal: NodeJS.Signals): boolean {
  const stat = readProcStat(identity.pid)
  if (!stat || stat.startTime !== String(identity.startTime) || stat.pgrp !== identity.pid) return false
  return signalGroup(identity.pid, signal)
}

// Signals a whole process group; false if it is already empty.
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

// Every process on the machine, read from /proc (ps may be absent, and this is faster).
export function listProcesses(): ProcStat[] {
  const out: ProcStat[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue
    const stat = readProcStat(Number(name))
    if (stat) out.push(stat)
  }
  return out
}

// True while a live (non-zombie) process is in one of the groups.
export function groupsAlive(pgids: readonly number[]): boolean {
  if (pgids.length === 0) return false
  const wanted = new Set(pgids)
  return listProcesses().some((p) => p.state !== 'Z' && wanted.has(p.pgrp))
}

// The environment a process was started with (readable for our own processes), or undefined.
export function readEnviron(pid: number): Record<string, string> | undefined {
  try {
    return parseEnviron(fs.readFileSync(`/proc/${pid}/environ`, 'utf8'))
  } catch {
    return undefined
  }
}

// NAME=value entries separated by NUL, as /proc/PID/environ holds them.
export function parseEnviron(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of text.split('\0')) {
    const at = entry.indexOf('=')
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1)
  }
  return env
}

// Whether a process has a handler for a signal (SigCgt in /proc/PID/status). One without a handler gets the default
// action, which for USR1 and USR2 ends it. Undefined when the process cannot be read (gone, or not Linux).
export function catchesSignal(pid: number, signal: NodeJS.Signals): boolean | undefined {
  const number = os.constants.signals[signal]
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return mask === undefined ? undefined : ((BigInt(`0x${mask}`) >> BigInt(number - 1)) & 1n) === 1n
  } catch {
    return undefined
  }
}

// What `ps` shows as the process's command line (its title, once a process sets one).
export function readCmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ').trimEnd()
  } catch {
    return ''
  }
}

let users: Map<number, string> | undefined
export function readUser(pid: number): string {
  let uid: number
  try {
    uid = fs.statSync(`/proc/${pid}`).uid
  } catch {
    return '?'
  }
  if (!users) {
    users = new Map()
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':')
        if (name && id) users.set(Number(id), name)
      }
    } catch {
      // no /etc/passwd: show numeric uids
    }
  }
  return users.get(uid) ?? String(uid)
}
