import { readFileIfExists, writeFileAtomic } from './atomic-file.js'
import type { Formation } from './formation.js'
import type { StatePaths } from './state-dir.js'

export type WorkerState = 'starting' | 'running' | 'stopping' | 'backoff'

export interface JobInfo {
  class: string
  queue: string
  since: string
}

export interface WorkerExit {
  code: number | null
  signal: string | null
  at: string
}

export interface WorkerStatus {
  slot: number
  // The current process, or during backoff the last one (startTime lets readers verify it).
  pid: number
  startTime: string
  queues: string
  state: WorkerState
  startedAt: string
  restarts: number
  epoch: number
  lastExit: WorkerExit | null
  nextAttemptAt?: string
  // Known for built-in workers only: null idle, else the job being worked.
  job?: JobInfo | null
  paused?: boolean
}

// What the master has counted since it started (for Prometheus counters; `rpd metrics` reads them here).
export interface MasterCounters {
  restarts: Record<string, number>
  scaleEvents: { group: string; direction: 'up' | 'down'; reason: string; count: number }[]
  guardVetoes: { guard: string; count: number }[]
}

// What the master rewrites (atomically) after every change.
export interface StatusFile {
  pid: number
  startTime: string
  app: string
  cwd: string
  startedAt: string
  updatedAt: string
  state: 'running' | 'stopping' | 'stopped'
  generation: number
  formation: Formation
  paused: boolean
  redis?: string
  namespace?: string
  workers: WorkerStatus[]
  counters?: MasterCounters
}

export function writeStatusFile(paths: StatePaths, status: StatusFile): void {
  writeFileAtomic(paths.status, `${JSON.stringify(status, null, 1)}\n`, { fsync: false })
}

// The last status the master wrote, or undefined when there is none or it cannot be read.
export function readStatusFile(paths: StatePaths): StatusFile | undefined {
  try {
    const text = readFileIfExists(paths.status)
    if (!text) return undefined
    const status = JSON.parse(text) as StatusFile
    return status && Array.isArray(status.workers) ? status : undefined
  } catch {
    return undefined
  }
}
