import path from 'node:path'
import { parsePoolYaml, stringifyPoolYaml } from './pool-yaml.js'
import { writeFileAtomic, readFileIfExists } from './atomic-file.js'
import { EXIT_FAILURE, RpdError, usageError, errorMessage } from '../errors.js'
import { isNoSpace } from './file-errors.js'
import {
  type Bounds,
  type Formation,
  formationDocument,
  validateFormationSpec,
  validateGroup,
} from './formation.js'
import { parseSignal } from '../proc/signals.js'
import type { StatePaths } from './state-dir.js'
import type { LogFormat } from './log-file.js'

// What pool.yml holds: the desired state. Only the CLI writes it (under the lock); the master reads it.
export interface PoolConfig {
  generation: number
  formation: Formation
  // A Procfile-style worker command; absent when the built-in worker runs `jobs`.
  command?: string
  jobs?: string
  redis?: string
  namespace?: string
  stopSignal: string
  app: string
  cwd: string
  // The resque-pool.yml the formation was read from: `rpd reload` reads it again.
  configFile?: string
  // Resque's INTERVAL (seconds between polls of empty queues) for every worker.
  interval?: number
  // -E/--environment: RACK_ENV, RAILS_ENV and RESQUE_ENV for the workers and the config's section.
  environment?: string
  // Bumped per group by `rpd restart`: workers spawned under an older epoch are replaced.
  restartEpochs: Record<string, number>
  // Automatic groups (`images=0..8`): their bounds; formation holds their minimum.
  bounds: Bounds
  autoscale: AutoscaleConfig
  // Pool-wide limits on what autoscaling may do: host load and memory, per-worker memory, a total budget.
  guards: GuardConfig
  // Time-of-day windows (`mon-fri 09:00-18:00 ui=6 reports=0..2`), read in `timezone` (default: local).
  schedules: string[]
  timezone?: string
  // HOST:PORT the master serves Prometheus text on (/metrics); absent: no server.
  metrics?: string
  // How master.log is written: one text line per entry, or one JSON object per line.
  logFormat?: LogFormat
  // Membership in a fleet sharing one formation through the pool's Redis (`rpd start --fleet`).
  fleet?: FleetConfig
}

export interface FleetConfig {
  name: string
  hostId: string
  weight: number
}

export interface GuardConfig {
  // 1-minute load average per core above which no group grows, and groups shed workers after guardAfter.
  maxLoad?: number
  // MemAvailable floor, `500M` or `10%`.
  minFreeMem?: string
  // Seconds a guard must stay tripped before a worker is shed.
  guardAfter?: number
  // A worker above this resident memory (`500M`) is stopped after its job and replaced.
  maxRss?: string
  // Consecutive samples over maxRss before QUIT, and again before TERM.
  rssSamples?: number
  // Seconds after QUIT a worker's tree may stay over maxRss before TERM; guardAfter when unset.
  maxRssGrace?: number
  // The sum of every group's workers never exceeds this.
  maxTotal?: number
}

export type { LogFormat }

// How automatic groups are sized (`rpd autoscale`): pool-wide knobs, and per group where set.
export interface AutoscaleKnobs {
  // Seconds a job may wait in the queue before it starts.
  targetLatency?: number
  // Seconds the recommendation must stay lower before a group shrinks.
  downAfter?: number
}

export interface AutoscaleConfig extends AutoscaleKnobs {
  // Decide and log, but change no count.
  dryRun?: boolean
  groups?: Record<string, AutoscaleKnobs>
}

export const DEFAULT_TARGET_LATENCY_S = 30
export const DEFAULT_DOWN_AFTER_S = 120

// The knobs in force for one group: its own, else the pool's, else the defaults.
export function autoscaleKnobs(pool: PoolConfig, group: string): Required<AutoscaleKnobs> {
  const own = pool.autoscale.groups?.[group] ?? {}
  return {
    targetLatency: own.targetLatency ?? pool.autoscale.targetLatency ?? DEFAULT_TARGET_LATENCY_S,
    downAfter: own.downAfter ?? pool.autoscale.downAfter ?? DEFAULT_DOWN_AFTER_S,
  }
}

export const DEFAULT_STOP_SIGNAL = 'SIGQUIT'

export function defaultPool(cwd: string = process.cwd()): PoolConfig {
  return {
    generation: 0,
    formation: {},
    stopSignal: DEFAULT_STOP_SIGNAL,
    app: path.basename(cwd) || 'rpd',
    cwd,
    restartEpochs: {},
    bounds: {},
    autoscale: {},
    guards: {},
    schedules: [],
  }
}

function optionalString(doc: Record<string, unknown>, key: string, file: string): string | undefined {
  const value = doc[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || value.trim() === '')
    throw usageError(`${file}: ${key} must be a non-empty string`)
  return value
}

function optionalSeconds(doc: Record<string, unknown>, key: string, file: string): number | undefined {
  const value = doc[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !(value > 0))
    throw usageError(`${file}: ${key} must be a number of seconds above 0`)
  return value
}

// Parses and checks pool.yml text; every problem is one line naming the file.
export function parsePool(text: string, file: string): PoolConfig {
  let doc: unknown
  try {
    doc = parsePoolYaml(text)
  } catch (error) {
    throw usageError(
      `${file} is not valid YAML (${errorMessage(error).split('\n')[0]}): fix it or rewrite it with rpd scale`,
    )
  }
  return poolFromDocument(doc, file)
}

// Checks what pool.yml held once parsed (or the same document, handed over as JSON).
export function poolFromDocument(doc: unknown, file: string): PoolConfig {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw usageError(`${file} does not hold a pool (a mapping with formation:): fix it or remove it`)
  const record = doc as Record<string, unknown>
  const base = defaultPool(optionalString(record, 'cwd', file) ?? process.cwd())
  const generation = record.generation ?? 0
  if (typeof generation !== 'number' || !Number.isInteger(generation) || generation < 0)
    throw usageError(`${file}: generation must be a whole number`)
  const epochs = validateFormationLike(record.restartEpochs, `${file}: restartEpochs`)
  const stopSignal = optionalString(record, 'stopSignal', file)
  const spec = validateFormationSpec(record.formation, file)
  return {
    ...base,
    generation,
    formation: spec.formation,
    bounds: spec.bounds,
    autoscale: parseAutoscale(record.autoscale, `${file}: autoscale`),
    guards: parseGuards(record.guards, `${file}: guards`),
    schedules: parseSchedules(record.schedules, `${file}: schedules`),
    timezone: optionalString(record, 'timezone', file),
    command: optionalString(record, 'command', file),
    jobs: optionalString(record, 'jobs', file),
    redis: optionalString(record, 'redis', file),
    namespace: optionalString(record, 'namespace', file),
    stopSignal: stopSignal ? parseSignal(stopSignal) : DEFAULT_STOP_SIGNAL,
    app: optionalString(record, 'app', file) ?? base.app,
    configFile: optionalString(record, 'configFile', file),
    environment: optionalString(record, 'environment', file),
    interval: optionalSeconds(record, 'interval', file),
    restartEpochs: epochs,
    metrics: optionalString(record, 'metrics', file),
    logFormat: parseLogFormat(record.logFormat, file),
    ...(record.fleet === undefined || record.fleet === null
      ? {}
      : { fleet: parseFleet(record.fleet, `${file}: fleet`) }),
  }
}

export function parseLogFormat(value: unknown, where: string): LogFormat | undefined {
  if (value === undefined || value === null) return undefined
  if (value !== 'text' && value !== 'json') throw usageError(`${where}: logFormat must be text or json`)
  return value
}

function parseFleet(value: unknown, where: string): FleetConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw usageError(`${where} must be a mapping with name, hostId and weight`)
  const record = value as Record<string, unknown>
  const name = optionalString(record, 'name', where)
  const hostId = optionalString(record, 'hostId', where)
  if (!name || !hostId) throw usageError(`${where} needs a name and a hostId`)
  const weight = record.weight ?? 1
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
    throw usageError(`${where}.weight must be a number >= 0`)
  return { name, hostId, weight }
}

function parseKnobs(value: unknown, where: string): AutoscaleKnobs {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw usageError(`${where} must be a mapping`)
  const record = value as Record<string, unknown>
  const knobs: AutoscaleKnobs = {}
  for (const key of ['targetLatency', 'downAfter'] as const) {
    const n = record[key]
    if (n === undefined || n === null) continue
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
      throw usageError(`${where}.${key} must be a number of seconds above 0`)
    knobs[key] = n
  }
  return knobs
}

function parseAutoscale(value: unknown, where: string): AutoscaleConfig {
  const config: AutoscaleConfig = parseKnobs(value, where)
  if (value === undefined || value === null) return config
  const record = value as Record<string, unknown>
  if (record.dryRun !== undefined && typeof record.dryRun !== 'boolean')
    throw usageError(`${where}.dryRun must be true or false`)
  if (record.dryRun) config.dryRun = true
  if (record.groups !== undefined && record.groups !== null) {
    if (typeof record.groups !== 'object' || Array.isArray(record.groups))
      throw usageError(`${where}.groups must be a mapping of queue group to knobs`)
    config.groups = {}
    for (const [group, knobs] of Object.entries(record.groups)) {
      validateGroup(group)
      config.groups[group] = parseKnobs(knobs, `${where}.groups.${group}`)
    }
  }
  return config
}

// Checked again where each value is used (sizes, windows); here only their types, so a hand edit fails by name.
function parseGuards(value: unknown, where: string): GuardConfig {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw usageError(`${where} must be a mapping`)
  const record = value as Record<string, unknown>
  const guards: GuardConfig = {}
  for (const key of ['maxLoad', 'guardAfter', 'rssSamples', 'maxTotal'] as const) {
    const n = record[key]
    if (n === undefined || n === null) continue
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
      throw usageError(`${where}.${key} must be a number above 0`)
    if ((key === 'rssSamples' || key === 'maxTotal') && !Number.isInteger(n))
      throw usageError(`${where}.${key} must be a whole number`)
    guards[key] = n
  }
  const grace = record.maxRssGrace
  if (grace !== undefined && grace !== null) {
    if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0)
      throw usageError(`${where}.maxRssGrace must be a number of seconds, 0 or more`)
    guards.maxRssGrace = grace
  }
  for (const key of ['minFreeMem', 'maxRss'] as const) {
    const text = record[key]
    if (text === undefined || text === null) continue
    if (typeof text !== 'string' && typeof text !== 'number')
      throw usageError(`${where}.${key} must be a size such as 500M`)
    guards[key] = String(text)
  }
  return guards
}

function parseSchedules(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || value.some((line) => typeof line !== 'string'))
    throw usageError(`${where} must be a list of windows such as 'mon-fri 09:00-18:00 ui=6'`)
  return value as string[]
}

function validateFormationLike(value: unknown, where: string): Record<string, number> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw usageError(`${where} must be a mapping`)
  for (const [group, n] of Object.entries(value)) {
    validateGroup(group)
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw usageError(`${where}.${group} must be a whole number`)
  }
  return value as Record<string, number>
}

// pool.yml as a document: every setting that is set, automatic groups as their range.
export function poolDocument(pool: PoolConfig): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    generation: pool.generation,
    formation: formationDocument(pool),
    command: pool.command,
    jobs: pool.jobs,
    redis: pool.redis,
    namespace: pool.namespace,
    stopSignal: pool.stopSignal,
    app: pool.app,
    cwd: pool.cwd,
    configFile: pool.configFile,
    environment: pool.environment,
    interval: pool.interval,
    restartEpochs: pool.restartEpochs,
    autoscale: Object.keys(pool.autoscale).length ? pool.autoscale : undefined,
    guards: Object.keys(pool.guards).length ? pool.guards : undefined,
    schedules: pool.schedules.length ? pool.schedules : undefined,
    timezone: pool.timezone,
    metrics: pool.metrics,
    logFormat: pool.logFormat,
    fleet: pool.fleet,
  }
  for (const key of Object.keys(doc)) if (doc[key] === undefined) delete doc[key]
  return doc
}

export function formatPool(pool: PoolConfig): string {
  return stringifyPoolYaml(poolDocument(pool))
}

// The saved pool, or undefined when there is no pool.yml.
export function readPool(paths: StatePaths): PoolConfig | undefined {
  let text: string | undefined
  try {
    text = readFileIfExists(paths.pool)
  } catch (error) {
    throw new RpdError(`cannot read ${paths.pool}: ${errorMessage(error)}`)
  }
  return text === undefined ? undefined : parsePool(text, paths.pool)
}

export function writePool(paths: StatePaths, pool: PoolConfig): void {
  try {
    writeFileAtomic(paths.pool, formatPool(pool))
  } catch (error) {
    throw new RpdError(
      `cannot write ${paths.pool}: ${errorMessage(error)}`,
      EXIT_FAILURE,
      isNoSpace(error) ? 'NO_SPACE' : undefined,
    )
  }
}
