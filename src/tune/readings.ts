import type { Guard } from './search.js'

// What one second of a probe reads, turned into the numbers the window and the search take. Pure.

export type HostSample = { load1: number; cores: number; memAvailable: number; memTotal: number }

export type HostLimits = {
  // Load average per core.
  maxLoad?: number
  // MemAvailable floor, bytes; or a share of MemTotal.
  minFreeMem?: { bytes: number } | { percent: number }
}

export type GuardTrip = { guard: Guard; why: string }

// Jobs completed between two readings of the workers' processed counters. A worker that appears counts from
// zero (its counter did not exist); one whose counter vanished has left (Resque clears it on exit), and the
// jobs it finished since the last reading are lost to the count: the caller re-reads the worker list.
export function countCompleted(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): { completed: number; left: string[] } {
  let completed = 0
  for (const [id, value] of after) completed += Math.max(0, value - (before.get(id) ?? 0))
  const left = [...before.keys()].filter((id) => !after.has(id))
  return { completed, left }
}

export function loadPerCore(sample: HostSample): number {
  return sample.load1 / Math.max(1, sample.cores)
}

// The first limit the sample is over, memory first (running out of it kills processes; load only slows them).
export function checkHostLimits(sample: HostSample, limits: HostLimits): GuardTrip | undefined {
  if (limits.minFreeMem !== undefined) {
    const floor =
      'bytes' in limits.minFreeMem
        ? limits.minFreeMem.bytes
        : Math.round((sample.memTotal * limits.minFreeMem.percent) / 100)
    if (sample.memAvailable < floor)
      return {
        guard: 'min-free-mem',
        why: `${mebibytes(sample.memAvailable)} available < ${mebibytes(floor)} floor`,
      }
  }
  if (limits.maxLoad !== undefined) {
    const perCore = loadPerCore(sample)
    if (perCore > limits.maxLoad)
      return {
        guard: 'max-load',
        why: `load ${perCore.toFixed(2)} per core (${sample.load1.toFixed(2)} on ${sample.cores} cores) > ${limits.maxLoad}`,
      }
  }
  return undefined
}

function mebibytes(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`
}
