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
  // The current process, or during backoff the last one (startTime lets readers verify it); 0 for none yet.
  pid: number
  startTime: string
  queues: string
  state: WorkerState
  startedAt: string
  restarts: number
  epoch: number
  lastExit: WorkerExit | null
  nextAttemptAt?: string
  // Why the slot has no process (its working directory gone, a full disk): what the next attempt must overcome.
  problem?: string
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
  // Automatic groups (images=0..8): bounds, the count the master runs them at, the last decision and why.
  autoscale?: Record<string, AutoscaleReport>
  // Host guards and the worker budget: limits, the reading, what they hold back now.
  guards?: object
  // Time-of-day windows: which are active and when the formation changes next.
  schedule?: { timezone: string; windows: string[]; active: number[]; nextChangeAt: string | null }
  counters?: MasterCounters
  // A fleet member's view of its fleet: who is in it, the fleet's targets and this member's share.
  fleet?: FleetReport
}

export interface FleetReport {
  name: string
  hostId: string
  weight: number
  // False while this member cannot reach the fleet's Redis: it keeps its workers and decides nothing.
  reachable: boolean
  // The fleet formation as written (`12`, `0..20`) and the counts in force for it.
  groups: Record<string, string>
  targets: Record<string, number>
  // This member's share per group, and the count it runs towards now (lower while others shrink).
  share: Record<string, number>
  counts: Record<string, number>
  // Who holds the autoscaling lease (decides the ranges) and, per range group, who decided its count.
  holder: string | null
  decidedBy: Record<string, string>
  members: { id: string; host: string; pid: number; weight: number; beatAgeMs: number }[]
}

export interface AutoscaleReport {
  min: number
  max: number
  desired: number
  // In a dry run: the count the group runs at, while desired is what the policy would have chosen.
  running?: number
  targetLatency: number
  downAfter: number
  reason: string
  // When the last decision was made (null before the first sample).
  at: string | null
  inputs: {
    depth: number
    busy: number
    rate: number
    jobSeconds: number | null
    latency: number | null
  } | null
  dryRun?: boolean
  held?: string
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
