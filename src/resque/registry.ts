import type { Redis } from 'ioredis'
import { abandonedJob, formatFailure, type JobPayload } from './failure.js'
import { parseJobJson, stringifyJobJson } from './job-json.js'
import type { ResqueKeys } from './keys.js'
import { formatLocalIso8601, formatUtcIso8601 } from './ruby-time.js'

// What a worker's `resque:worker:ID` holds while it runs a job.
export interface WorkingOn {
  queue: string
  run_at: string
  // A payload that is not JSON is kept as its text, so the failure shows what was queued.
  payload: JobPayload | string
}

// KEYS: the queue, resque:worker:ID; ARGV: queue name and run_at, JSON-encoded. The payload is stored as it was
// queued when it is JSON (as Ruby re-encodes it), else as a JSON string of its text.
const RESERVE_SCRIPT = `
local job = redis.call('LPOP', KEYS[1])
if not job then return false end
local payload = job
if not pcall(cjson.decode, job) then payload = cjson.encode(job) end
redis.call('SET', KEYS[2], '{"queue":' .. ARGV[1] .. ',"run_at":' .. ARGV[2] .. ',"payload":' .. payload .. '}')
return job
`

const RESERVE_COMMAND = 'rpdReserve'

// One worker's registration in Redis, written the way Ruby Resque writes it.
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ResqueKeys,
    readonly id: string,
  ) {}

  // SADD resque:workers and the start time; NX keeps the first start time when re-registering after Redis came back.
  async register(started: string, keepStarted = false): Promise<void> {
    const startedKey = this.keys.workerStarted(this.id)
    const pipeline = this.redis.pipeline().sadd(this.keys.workers, this.id)
    if (keepStarted) pipeline.set(startedKey, started, 'NX')
    else pipeline.set(startedKey, started)
    await execOrThrow(pipeline)
  }

  // Resque stamps heartbeats with the Redis server's clock, so hosts with skewed clocks agree.
  async heartbeat(): Promise<void> {
    const [seconds] = await this.redis.time()
    await this.redis.hset(this.keys.heartbeats, this.id, formatLocalIso8601(new Date(Number(seconds) * 1000)))
  }

  // Resque's reserve and working_on in one atomic step: LPOP the job and record it in resque:worker:ID.
  // Done as two commands, a worker killed between them would take the job with it and leave no trace.
  async reserve(queue: string, at: Date): Promise<string | null> {
    if (!(RESERVE_COMMAND in this.redis))
      this.redis.defineCommand(RESERVE_COMMAND, { numberOfKeys: 2, lua: RESERVE_SCRIPT })
    const reserve = (this.redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[
      RESERVE_COMMAND
    ]
    // A defined command is sent as EVALSHA: the script travels once, not with every job.
    const text = await reserve.call(
      this.redis,
      this.keys.queue(queue),
      this.keys.worker(this.id),
      JSON.stringify(queue),
      JSON.stringify(formatUtcIso8601(at)),
    )
    return typeof text === 'string' ? text : null
  }

  // The record reserve() stored, as an object (the payload parsed when it is JSON).
  workingOn(queue: string, payload: JobPayload | string, at: Date): WorkingOn {
    return { queue, run_at: formatUtcIso8601(at), payload }
  }

  async restoreWorkingOn(working: WorkingOn): Promise<void> {
    await this.redis.set(this.keys.worker(this.id), stringifyJobJson(working))
  }

  // The end of a job, in one transaction: its failure (if any) and stats, then the worker is idle again.
  async finishJob(working: WorkingOn, failure?: { error: unknown }): Promise<void> {
    const multi = this.redis.multi()
    if (failure)
      multi
        .rpush(
          this.keys.failed,
          formatFailure({
            payload: working.payload,
            error: failure.error,
            worker: this.id,
            queue: working.queue,
          }),
        )
        .incrby(this.keys.stat('failed'), 1)
        .incrby(this.keys.stat('failed', this.id), 1)
    multi
      .del(this.keys.worker(this.id))
      .incrby(this.keys.stat('processed'), 1)
      .incrby(this.keys.stat('processed', this.id), 1)
    await execOrThrow(multi)
  }

  // Resque's unregister_worker: a job still recorded as in progress is failed, then every trace of the worker goes.
  // The job record is taken with GET+DEL in one transaction, so of two cleaners (the master, a starting worker's
  // pruning) only one records the failure.
  async unregister(error: unknown = abandonedJob()): Promise<WorkingOn | undefined> {
    const taken = await this.redis
      .multi()
      .get(this.keys.worker(this.id))
      .del(this.keys.worker(this.id))
      .exec()
    const failedStep = taken?.find(([stepError]) => stepError)
    if (failedStep) throw failedStep[0]
    const working = parseWorkingOn((taken?.[0]?.[1] as string | null) ?? null)
    const multi = this.redis.multi()
    if (working)
      multi.rpush(
        this.keys.failed,
        formatFailure({ payload: working.payload, error, worker: this.id, queue: working.queue }),
      )
    multi
      .srem(this.keys.workers, this.id)
      .del(this.keys.workerStarted(this.id))
      .hdel(this.keys.heartbeats, this.id)
      .del(this.keys.stat('processed', this.id))
      .del(this.keys.stat('failed', this.id))
    await execOrThrow(multi)
    return working
  }
}

export function parseWorkingOn(text: string | null): WorkingOn | undefined {
  if (!text) return undefined
  try {
    const value = parseJobJson(text) as WorkingOn
    return value && typeof value === 'object' && value.payload ? value : undefined
  } catch {
    return undefined
  }
}

async function execOrThrow(batch: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<void> {
  const replies = await batch.exec()
  const failed = replies?.find(([error]) => error)
  if (failed) throw failed[0]
}
