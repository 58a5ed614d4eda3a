import { readFile } from 'node:fs/promises'
import os from 'node:os'
import type { HostReading, RssSample } from './guards.js'

const KIB = 1024

// The 1-minute load average, the first field of /proc/loadavg.
export async function readLoadAverage(): Promise<number | undefined> {
  try {
    const load1 = Number((await readFile('/proc/loadavg', 'utf8')).split(' ', 1)[0])
    return Number.isFinite(load1) ? load1 : undefined
  } catch {
    return undefined
  }
}

// MemAvailable and MemTotal in bytes, from /proc/meminfo (which counts in KiB).
export async function readMemory(): Promise<{ memAvailable: number; memTotal: number } | undefined> {
  try {
    const text = await readFile('/proc/meminfo', 'utf8')
    const available = /^MemAvailable:\s+(\d+) kB$/m.exec(text)?.[1]
    const total = /^MemTotal:\s+(\d+) kB$/m.exec(text)?.[1]
    if (available === undefined || total === undefined) return undefined
    return { memAvailable: Number(available) * KIB, memTotal: Number(total) * KIB }
  } catch {
    return undefined
  }
}

// One reading for the host guards; undefined where /proc cannot say (not Linux, or a failed read).
export async function readHost(now: number = Date.now()): Promise<HostReading | undefined> {
  const [load1, memory] = await Promise.all([readLoadAverage(), readMemory()])
  if (load1 === undefined || memory === undefined) return undefined
  return { at: now, load1, cores: os.availableParallelism(), ...memory }
}

// A process's resident set in bytes (VmRSS in /proc/PID/status); undefined if it is gone, a zombie, or unreadable.
export async function readRss(pid: number): Promise<number | undefined> {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kib === undefined ? undefined : Number(kib) * KIB
  } catch {
    return undefined
  }
}

// RSS samples for the max-rss guard, in the order given; a worker that has exited is left out.
export async function readRssSamples(pids: readonly number[]): Promise<RssSample[]> {
  const values = await Promise.all(pids.map((pid) => readRss(pid)))
  return pids.flatMap((pid, i) => (values[i] === undefined ? [] : [{ pid, rss: values[i] }]))
}
