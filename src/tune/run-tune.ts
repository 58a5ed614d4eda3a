import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import type { Pool } from '../client/pool.js'
import { EXIT_NOT_RUNNING, RpdError, usageError } from '../errors.js'
import { readHost } from '../autoscale/host-readings.js'
import { chooseRedisTarget } from '../resque/enqueue.js'
import { type GroupCounters, readGroupCounters } from '../resque/group-counters.js'
import { formatWorkerId } from '../resque/keys.js'
import { connectOnce } from '../resque/redis-client.js'
import { MAX_WORKERS_PER_GROUP, formatFormation, formatRange, validateGroup } from '../state/formation.js'
import { readPool } from '../state/pool-file.js'
import { statePaths } from '../state/state-dir.js'
import { type HostLimits, type HostSample, checkHostLimits, countCompleted, loadPerCore } from './readings.js'
import {
  type Guard,
  type ProbeResult,
  type SearchState,
  type StopReason,
  chooseBest,
  nextProbe,
  recordProbe,
  startSearch,
} from './search.js'
import { fitUsl, type UslModel } from './usl.js'
import { judgeWindow, summarizeWindow, windowFor } from './window.js'

// `rpd tune`: drives a running pool through worker counts chosen by the search, measuring each.

export interface TuneClock {
  now(): number
  // Rejects when the signal aborts.
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: TuneClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleep(Math.max(0, ms), undefined, { signal })
  },
}

export interface TuneSettings {
  group: string
  min: number
  max: number
  limits?: HostLimits
  // A fixed window (--window); default: each window ends once its mean is steady.
  windowSeconds?: number
  tolerance?: number
  // Make an automatic group a manual one at the best count; without it, its bounds come back at the end.
  // (A manual group keeps the best count either way: pool.yml is always the formation the pool runs.)
  save?: boolean
  // Where the workers' counters are: default $REDIS_URL, else the pool's saved Redis.
  redis?: string
  namespace?: string
  // Seconds each change of count may take to apply (default 60).
  scaleTimeoutSeconds?: number
}

export interface TuneProbe extends ProbeResult {
  // Why the guard tripped, when one did.
  guardWhy?: string
}

export type TuneStop = StopReason | 'interrupted' | 'drained'

export interface TuneReport {
  group: string
  // The best count found; the group is left at it (at the spec it started from when interrupted).
  best: number
  // The group's spec in pool.yml before tuning: a count, or an automatic group's bounds (`0..8`).
  startedFrom: string
  probes: TuneProbe[]
  model?: UslModel
  stoppedBy: TuneStop
  guard?: Guard
  guardWhy?: string
  seconds: number
  // The spec pool.yml holds for the group at the end: the best count, or an automatic group's bounds.
  kept: string
}

export interface TuneIo {
  pool: Pool
  clock?: TuneClock
  // Aborting it (^C) ends the search and restores the group's spec.
  signal?: AbortSignal
  onProbe?: (probe: TuneProbe, index: number) => void
  readHost?: () => Promise<HostSample | undefined>
}

const SECOND_MS = 1000
const DEFAULT_SCALE_TIMEOUT_S = 60

type Measured = { kind: 'probe'; probe: TuneProbe } | { kind: 'drained' }

// Probes until the search is done, leaves the group at the best count and returns what was measured.
// Errors after the first change of count (and ^C) put the group's spec back before they return or throw.
export async function runTune(settings: TuneSettings, io: TuneIo): Promise<TuneReport> {
  const clock = io.clock ?? systemClock
  const began = clock.now()
  const { group } = settings
  let search = startTuneSearch(settings)
  const status = await io.pool.status()
  if (!status.running)
    throw new RpdError(
      `no pool is running in ${status.stateDir}: start one with rpd start`,
      EXIT_NOT_RUNNING,
      'NOT_RUNNING',
    )
  if (!(group in status.formation))
    throw new RpdError(
      `no group ${JSON.stringify(group)} in the running pool (${formatFormation(status.formation) || 'no workers'}): add it with rpd scale ${group}=${settings.min}`,
      EXIT_NOT_RUNNING,
      'NOT_RUNNING',
    )
  const groups = Object.keys(status.formation)
  const startedFrom = readSavedSpec(io.pool.stateDir, group) ?? String(status.formation[group])
  const redis = await connectRedis(settings, io.pool.stateDir)
  const namespace = chooseRedisTarget({ namespace: settings.namespace, stateDir: io.pool.stateDir }).namespace
  const read = (ids: readonly string[]) => readGroupCounters(redis, namespace, group, groups, ids)
  const restore = () => io.pool.scale({ [group]: startedFrom }, { timeout: scaleTimeout(settings) })
  let touched = false
  try {
    if ((await read([])).depth === 0)
      throw usageError(
        `the queues of ${group} hold no jobs: rpd tune measures while there is a backlog; enqueue work (a load test) first`,
      )
    const probes: TuneProbe[] = []
    let stoppedBy: TuneStop | undefined
    for (;;) {
      const step = nextProbe(search)
      if ('done' in step) break
      touched = true
      const measured = await measureProbe(step.workers, probes[probes.length - 1], settings, io, clock, read)
      if (measured.kind === 'drained') {
        stoppedBy = 'drained'
        break
      }
      probes.push(measured.probe)
      search = recordProbe(search, measured.probe)
      io.onProbe?.(measured.probe, probes.length - 1)
    }
    if (probes.length === 0) {
      await restore()
      throw usageError(
        `the queues of ${group} ran dry before one count was measured: enqueue more work and run rpd tune again`,
      )
    }
    const done = finishSearch(search, stoppedBy)
    await io.pool.scale({ [group]: done.best }, { timeout: scaleTimeout(settings) })
    // An automatic group was run at fixed counts for the measurement: its bounds come back unless --save.
    if (!settings.save && isRange(startedFrom))
      await io.pool.scale({ [group]: startedFrom }, { timeout: scaleTimeout(settings) })
    return {
      group,
      best: done.best,
      startedFrom,
      probes,
      ...(done.model ? { model: done.model } : {}),
      stoppedBy: done.stoppedBy,
      ...(done.guard ? { guard: done.guard, guardWhy: probes.find((p) => p.guardWhy)?.guardWhy } : {}),
      seconds: (clock.now() - began) / SECOND_MS,
      kept: !settings.save && isRange(startedFrom) ? startedFrom : String(done.best),
    }
  } catch (error) {
    if (!io.signal?.aborted) {
      if (touched) await restore().catch(() => undefined)
      throw error
    }
    await restore()
    const probes = search.probes as TuneProbe[]
    const model = fitUsl(probes)
    return {
      group,
      best: Number(startedFrom) || status.formation[group],
      startedFrom,
      probes: [...probes],
      ...(model ? { model } : {}),
      stoppedBy: 'interrupted',
      seconds: (clock.now() - began) / SECOND_MS,
      kept: startedFrom,
    }
  } finally {
    redis.disconnect()
  }
}

function startTuneSearch(settings: TuneSettings): SearchState {
  validateGroup(settings.group)
  if (settings.max > MAX_WORKERS_PER_GROUP)
    throw usageError(`--max ${settings.max} is over the limit of ${MAX_WORKERS_PER_GROUP} workers per group`)
  try {
    windowFor({ windowSeconds: settings.windowSeconds })
    return startSearch({ min: settings.min, max: settings.max, tolerance: settings.tolerance })
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error))
  }
}

function finishSearch(
  search: SearchState,
  stoppedBy: TuneStop | undefined,
): { best: number; stoppedBy: TuneStop; guard?: Guard; model?: UslModel } {
  if (stoppedBy === undefined) {
    const done = nextProbe(search)
    if ('done' in done) return done
  }
  const model = fitUsl(search.probes)
  return {
    best: chooseBest(search),
    stoppedBy: stoppedBy ?? 'max-probes',
    ...(search.guard ? { guard: search.guard } : {}),
    ...(model ? { model } : {}),
  }
}

function scaleTimeout(settings: TuneSettings): number {
  return settings.scaleTimeoutSeconds ?? DEFAULT_SCALE_TIMEOUT_S
}

async function connectRedis(settings: TuneSettings, stateDir: string): Promise<Redis> {
  const target = chooseRedisTarget({ url: settings.redis, namespace: settings.namespace, stateDir })
  try {
    return await connectOnce(target.url)
  } catch (error) {
    if (!(error instanceof RpdError)) throw error
    throw new RpdError(error.message, EXIT_NOT_RUNNING, 'REDIS')
  }
}

// Sets the count, then counts completed jobs each second until the window is judged done, a guard trips
// or the queues run dry (a window then would measure how fast work arrives, not how fast it is done).
async function measureProbe(
  workers: number,
  previous: TuneProbe | undefined,
  settings: TuneSettings,
  io: TuneIo,
  clock: TuneClock,
  read: (ids: readonly string[]) => Promise<GroupCounters>,
): Promise<Measured> {
  const { group } = settings
  await io.pool.scale({ [group]: workers }, { timeout: scaleTimeout(settings) })
  io.signal?.throwIfAborted()
  const plan = windowFor({ windowSeconds: settings.windowSeconds, previous, workers })
  let ids = await listWorkerIds(io.pool, group)
  let before = (await read(ids)).processed
  const counts: number[] = []
  let load = 0
  let memAvailable = Infinity
  const start = clock.now()
  const host = io.readHost ?? (() => readHost(clock.now()))
  for (let second = 1; ; second++) {
    await clock.sleep(start + second * SECOND_MS - clock.now(), io.signal)
    const now = await read(ids)
    const { completed, left } = countCompleted(before, now.processed)
    counts.push(completed)
    before = now.processed
    if (left.length) {
      // A worker left (a crash, a respawn): count its replacement from the next second on.
      ids = await listWorkerIds(io.pool, group)
      before = (await read(ids)).processed
    }
    if (now.depth === 0) return { kind: 'drained' }
    const sample = await host()
    let trip: ReturnType<typeof checkHostLimits>
    if (sample) {
      load = Math.max(load, loadPerCore(sample))
      memAvailable = Math.min(memAvailable, sample.memAvailable)
      trip = checkHostLimits(sample, settings.limits ?? {})
    }
    const verdict = judgeWindow(plan, counts)
    if (!trip && !verdict.done) continue
    const measured = counts.slice(plan.transientSeconds)
    const summary = verdict.done ? verdict.summary : summarizeWindow(measured.length ? measured : counts)
    return {
      kind: 'probe',
      probe: {
        workers,
        jobsPerSecond: summary.jobsPerSecond,
        spread: summary.spread,
        load: sample ? load : NaN,
        memAvailable: Number.isFinite(memAvailable) ? memAvailable : NaN,
        seconds: summary.seconds,
        ...(trip ? { guardTripped: trip.guard, guardWhy: trip.why } : {}),
      },
    }
  }
}

// Resque's ids of the group's running workers (built-in or command workers alike).
async function listWorkerIds(pool: Pool, group: string): Promise<string[]> {
  const hostname = os.hostname()
  return (await pool.status()).workers
    .filter((w) => w.queues === group && w.state === 'running')
    .map((w) => formatWorkerId(hostname, w.pid, group))
}

// The group's spec as pool.yml holds it: `4`, or `0..8` for an automatic group.
function isRange(spec: string): boolean {
  return spec.includes('..')
}

function readSavedSpec(stateDir: string, group: string): string | undefined {
  const pool = readPool(statePaths(stateDir))
  if (!pool) return undefined
  const range = pool.bounds[group]
  if (range) return formatRange(range)
  return group in pool.formation ? String(pool.formation[group]) : undefined
}
