// What the benchmarks observe about processes, read straight from /proc (no ps: it would cost more than it measures).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { performance } from 'node:perf_hooks'

// Clock ticks per second: the unit of utime and stime in /proc/PID/stat.
export const CLK_TCK = readClockTicks()

function readClockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
}

// Fields of /proc/PID/stat, split after the last ')' (the command name may hold spaces and parentheses).
export function readStat(pid) {
  let text
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return {
    pid,
    state: fields[0],
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    startTime: fields[19],
  }
}

// A pid with its start time names one process even if the pid is reused.
export function identityOf(pid) {
  const stat = readStat(pid)
  return stat && stat.state !== 'Z' ? { pid, startTime: stat.startTime } : undefined
}

export function isAlive(identity) {
  const stat = readStat(identity.pid)
  return stat !== undefined && stat.state !== 'Z' && stat.startTime === identity.startTime
}

export function cpuTicks(pid) {
  return readStat(pid)?.cpuTicks
}

// Resident set size in bytes (VmRSS), or undefined once the process is gone.
export function rssBytes(pid) {
  try {
    const line = fs
      .readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'))
    return line ? Number(line.split(/\s+/)[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

export function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return []
  }
}

// Direct children, from every thread of the process (the kernel lists a child under the thread that forked it).
export function childrenOf(pid) {
  const out = []
  let tasks
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const task of tasks) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
      if (text) out.push(...text.split(' ').map(Number))
    } catch {
      // The thread ended while we looked.
    }
  }
  return out
}

// Children of parentPid that have finished exec'ing into the script (argv: bash SCRIPT) and are not zombies.
export function runningWorkers(parentPid, script) {
  return childrenOf(parentPid).filter((pid) => {
    const argv = cmdline(pid)
    const stat = readStat(pid)
    return argv[1] === script && stat !== undefined && stat.state !== 'Z'
  })
}

// Every live process below pid, as identities: what must be gone once a pool has stopped.
export function descendants(pid) {
  const out = []
  const queue = childrenOf(pid)
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const identity = identityOf(next)
    if (!identity) continue
    out.push(identity)
    queue.push(...childrenOf(next))
  }
  return out
}

export function readPidFile(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 1 ? pid : undefined
  } catch {
    return undefined
  }
}

// Polls check() until it returns a value other than undefined/false; throws after timeoutMs.
export async function waitFor(check, { timeoutMs = 30_000, intervalMs = 5, what = 'a condition' } = {}) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}
