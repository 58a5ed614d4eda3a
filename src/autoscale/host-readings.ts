import { readFile } from 'node:fs/promises'
import os from 'node:os'
import { collectTrees } from '../proc/process-tree.js'
import { type ProcStat, listProcesses } from '../proc/process-identity.js'
import type { HostReading, MemoryKind, RssSample } from './guards.js'

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

// A process's proportional set (Pss in /proc/PID/smaps_rollup, Linux 4.14+): each page shared with other
// processes counts its share, so a forked child's copy-on-write pages are not counted twice.
export async function readPss(pid: number): Promise<number | undefined> {
  try {
    const kib = /^Pss:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]
    return kib === undefined ? undefined : Number(kib) * KIB
  } catch {
    return undefined
  }
}

// One process's memory for the max-rss guard: PSS where the kernel gives it, else RSS.
export async function readProcessMemory(
  pid: number,
): Promise<{ bytes: number; kind: MemoryKind } | undefined> {
  const pss = await readPss(pid)
  if (pss !== undefined) return { bytes: pss, kind: 'PSS' }
  const rss = await readRss(pid)
  return rss === undefined ? undefined : { bytes: rss, kind: 'RSS' }
}

// Each worker's memory as its whole process tree (the worker, its job child and theirs), summed: PSS where
// readable, so shared pages count once; a tree with any process read by RSS is labelled RSS. A worker that
// has exited is left out; a descendant that exits while being read counts nothing.
export async function readTreeSamples(
  roots: readonly number[],
  processes: readonly ProcStat[] = listProcesses(),
): Promise<RssSample[]> {
  const trees = collectTrees(processes, roots)
  const samples = await Promise.all(
    roots.map(async (pid): Promise<RssSample | undefined> => {
      const tree = trees.get(pid)
      if (!tree) return undefined
      const readings = await Promise.all(tree.map((member) => readProcessMemory(member)))
      if (readings[0] === undefined) return undefined
      let bytes = 0
      let processes = 0
      let kind: MemoryKind = 'PSS'
      for (const reading of readings) {
        if (!reading) continue
        bytes += reading.bytes
        processes += 1
        if (reading.kind === 'RSS') kind = 'RSS'
      }
      return { pid, bytes, processes, kind }
    }),
  )
  return samples.filter((sample) => sample !== undefined)
}
