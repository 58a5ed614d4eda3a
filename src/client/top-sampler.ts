import fs from 'node:fs'
import type { TopDecision, TopGroup, TopView, TopWorker } from '../present/top.js'
import { parseLogLine } from '../state/log-file.js'
import { readLastMatching } from '../state/log-tail.js'
import { findMaster } from '../state/master-pid.js'
import { type StatePaths, statePaths } from '../state/state-dir.js'
import { readStatusFile, type StatusFile } from '../state/status-file.js'
import type { AutoscaleEntry } from './metrics-snapshot.js'

// How many samples a sparkline keeps (one a second: the last five minutes).
export const TOP_HISTORY_SAMPLES = 300
export const TOP_DECISIONS = 20
const DECISION = /^(autoscale|guard|schedule): /
const PAGE_BYTES = 4096
const CLOCK_TICKS_PER_S = 100

interface CpuSample {
  at: number
  ticks: number
}

// What the live view needs from Redis each second: queue depths and jobs processed so far per group.
export interface RedisSample {
  queues: Record<string, number>
  processedByGroup: Record<string, number>
}

// Gathers a TopView each call from status.json, /proc, master.log and (when the pool has one) Redis,
// keeping what rates and sparklines need from the calls before.
export class TopSampler {
  private readonly paths: StatePaths
  private readonly cpu = new Map<number, CpuSample>()
  private readonly rates = new Map<string, number[]>()
  private readonly latencies = new Map<string, (number | null)[]>()
  private lastProcessed?: { at: number; byGroup: Record<string, number> }

  constructor(
    dir: string,
    private readonly readRedis?: (status: StatusFile) => Promise<RedisSample | undefined>,
  ) {
    this.paths = statePaths(dir)
  }

  async sample(now = Date.now()): Promise<TopView> {
    const status = readStatusFile(this.paths)
    const running = findMaster(this.paths).running && status !== undefined && status.state !== 'stopped'
    const redis =
      running && status && this.readRedis ? await this.readRedis(status).catch(() => undefined) : undefined
    const autoscale = (status as { autoscale?: Record<string, AutoscaleEntry> } | undefined)?.autoscale ?? {}
    const groups = running && status ? this.collectGroups(status, autoscale, redis, now) : []
    return {
      now,
      pool: {
        state: running ? (status?.state ?? 'running') : 'not running',
        pid: running ? (status?.pid ?? null) : null,
        uptimeSeconds: running && status ? Math.max(0, (now - Date.parse(status.startedAt)) / 1000) : null,
        paused: Boolean(running && status?.paused),
      },
      groups,
      queues: Object.entries(redis?.queues ?? {}).map(([name, depth]) => ({
        name,
        depth,
        latencySeconds: null,
      })),
      decisions: this.readDecisions(),
    }
  }

  private collectGroups(
    status: StatusFile,
    autoscale: Record<string, AutoscaleEntry>,
    redis: RedisSample | undefined,
    now: number,
  ): TopGroup[] {
    const names = Object.keys(status.formation)
    for (const worker of status.workers) if (!names.includes(worker.queues)) names.push(worker.queues)
    const perSecond = this.jobsPerSecond(redis, now)
    const live = new Set<number>()
    const groups = names.map((name): TopGroup => {
      const decision = autoscale[name]
      const workers = status.workers
        .filter((worker) => worker.queues === name)
        .map((worker): TopWorker => {
          live.add(worker.pid)
          const usage = worker.state === 'backoff' ? undefined : this.readUsage(worker.pid, now)
          const busy = worker.job === undefined ? null : worker.job !== null
          return {
            pid: worker.pid,
            state: worker.state === 'running' && busy !== null ? (busy ? 'busy' : 'idle') : worker.state,
            job: worker.job
              ? {
                  class: worker.job.class,
                  runningSeconds: Math.max(0, (now - Date.parse(worker.job.since)) / 1000),
                }
              : null,
            rssBytes: usage?.rssBytes ?? null,
            cpuPercent: usage?.cpuPercent ?? null,
          }
        })
      const rate = push(this.rates, name, perSecond?.[name] ?? 0)
      const latency = pushNullable(this.latencies, name, decision?.inputs?.latency ?? null)
      return {
        name,
        current: workers.filter((w) => w.state !== 'stopping').length,
        desired: decision?.desired ?? status.formation[name] ?? 0,
        ...(decision?.min !== undefined ? { min: decision.min } : {}),
        ...(decision?.max !== undefined ? { max: decision.max } : {}),
        jobsPerSecond: rate,
        latencySeconds: latency,
        workers,
      }
    })
    for (const pid of this.cpu.keys()) if (!live.has(pid)) this.cpu.delete(pid)
    return groups
  }

  // Jobs per second per group since the last sample; a worker that exits takes its count with it, so a drop is 0.
  private jobsPerSecond(redis: RedisSample | undefined, now: number): Record<string, number> | undefined {
    if (!redis) return undefined
    const last = this.lastProcessed
    this.lastProcessed = { at: now, byGroup: redis.processedByGroup }
    if (!last || now <= last.at) return undefined
    const rates: Record<string, number> = {}
    for (const [group, total] of Object.entries(redis.processedByGroup))
      rates[group] = Math.max(0, total - (last.byGroup[group] ?? 0)) / ((now - last.at) / 1000)
    return rates
  }

  // RSS from /proc/PID/statm, CPU% from the change of utime+stime since the last sample.
  private readUsage(pid: number, now: number): { rssBytes: number | null; cpuPercent: number | null } {
    let rssBytes: number | null = null
    let cpuPercent: number | null = null
    try {
      rssBytes = Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const ticks = Number(fields[11]) + Number(fields[12])
      const before = this.cpu.get(pid)
      if (before && now > before.at)
        cpuPercent = Math.max(
          0,
          ((ticks - before.ticks) / CLOCK_TICKS_PER_S / ((now - before.at) / 1000)) * 100,
        )
      this.cpu.set(pid, { at: now, ticks })
    } catch {
      // Gone between status.json and now.
    }
    return { rssBytes, cpuPercent }
  }

  private readDecisions(): TopDecision[] {
    return readLastMatching(this.paths.log, TOP_DECISIONS, (line) =>
      DECISION.test(parseLogLine(line).text),
    ).lines.map((raw) => {
      const line = parseLogLine(raw)
      return {
        at: line.time.getTime(),
        kind: DECISION.exec(line.text)![1],
        text: line.text.replace(DECISION, ''),
      }
    })
  }
}

function push(history: Map<string, number[]>, key: string, value: number): number[] {
  const values = history.get(key) ?? []
  values.push(value)
  if (values.length > TOP_HISTORY_SAMPLES) values.shift()
  history.set(key, values)
  return [...values]
}

function pushNullable(
  history: Map<string, (number | null)[]>,
  key: string,
  value: number | null,
): (number | null)[] {
  const values = history.get(key) ?? []
  values.push(value)
  if (values.length > TOP_HISTORY_SAMPLES) values.shift()
  history.set(key, values)
  return [...values]
}

// Queue depths and each group's processed total (Resque's stat:processed:ID of its live workers), one round trip.
export async function readTopRedis(status: StatusFile): Promise<RedisSample | undefined> {
  if (!status.redis) return undefined
  const [{ connectOnce }, { ResqueKeys, DEFAULT_NAMESPACE }] = await Promise.all([
    import('../resque/redis-client.js'),
    import('../resque/keys.js'),
  ])
  const keys = new ResqueKeys(status.namespace ?? DEFAULT_NAMESPACE)
  const redis = await connectOnce(status.redis, 1_000, '')
  try {
    const [names, ids] = await Promise.all([redis.smembers(keys.queues), redis.smembers(keys.workers)])
    const groupOf = new Map(status.workers.map((w) => [w.pid, w.queues]))
    const ours = ids.filter((id) => groupOf.has(Number(id.split(':')[1])))
    names.sort()
    const pipeline = redis.pipeline()
    for (const name of names) pipeline.llen(keys.queue(name))
    for (const id of ours) pipeline.get(keys.stat('processed', id))
    const replies = ((await pipeline.exec()) ?? []).map(([, value]) => Number(value ?? 0))
    const queues: Record<string, number> = {}
    names.forEach((name, i) => (queues[name] = replies[i]))
    const processedByGroup: Record<string, number> = {}
    ours.forEach((id, i) => {
      const group = groupOf.get(Number(id.split(':')[1]))!
      processedByGroup[group] = (processedByGroup[group] ?? 0) + replies[names.length + i]
    })
    return { queues, processedByGroup }
  } finally {
    redis.disconnect()
  }
}
