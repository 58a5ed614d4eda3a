import type { Redis } from 'ioredis'
import { abandonedJob, formatFailure, type JobPayload } from './failure.js'
import { parseJobJson, stringifyJobJson } from './job-json.js'
import type { ResqueKeys } from './keys.js'
import {
  FastConnection,
  FastScript,
  encodeArgs,
  encodeAsciiArg,
  type FastTarget,
  type Reply,
} from './fast-script.js'

// What a reserve took: the queue it came from and the job as queued.
export interface Taken {
  queue: string
  text: string
}

// Called once: with the error, or with null and the result.
export type Settle<T> = (error: Error | null, result?: T) => void
import { formatLocalIso8601, formatUtcIso8601 } from './ruby-time.js'

// What a worker's `resque:worker:ID` holds while it runs a job.
export interface WorkingOn {
  queue: string
  run_at: string
  // A payload that is not JSON is kept as its text, so the failure shows what was queued.
  payload: JobPayload | string
}

// How long the last-step key outlives its worker if nothing removes it (a worker killed, pruned by Ruby): longer
// than any outage after which a step could still be sent again.
const LAST_STEP_TTL_S = 7 * 24 * 3600

// One job's end and the next one's start, in one atomic round trip. KEYS: resque:worker:ID, stat:processed,
// stat:processed:ID, failed, stat:failed, stat:failed:ID, the worker's last step, then the queues in priority
// order. ARGV: what to finish ('' nothing, 'ok', or 'failed' with the failure entry in ARGV[2]), run_at (JSON),
// the step's id, then each queue's name (JSON). Like Ruby, the payload is stored as queued when it is JSON, else
// as a JSON string of its text. Returns false, or the queue's position (from 1) and the job.
// A step whose reply was lost with its connection is sent again, by the worker or by ioredis, with the same id:
// then it answers what it answered the first time (kept in the last-step key) and does nothing again, so no job
// is taken twice (the first one lost) and no end is counted twice. A step id marked with a leading '+' is a first
// send on the worker's own connection, which never sends anything twice: it skips that check (about a tenth of the
// script's time in Redis) and is kept without the mark, so the same step sent again, unmarked, finds it.
// Counts and the TTL go to redis.call as strings: a Lua number is first formatted as a float (printf), which cost
// this script about a tenth of its time.
const ADVANCE_SCRIPT = `
local step = ARGV[4]
local last = false
if string.byte(step, 1) == 43 then step = string.sub(step, 2) else last = redis.call('GET', KEYS[7]) end
if last and string.sub(last, 1, #step + 1) == step .. ':' then
  local rest = string.sub(last, #step + 2)
  local cut = string.find(rest, ':', 1, true)
  local position = tonumber(string.sub(rest, 1, cut - 1))
  if position == 0 then return false end
  return {position, string.sub(rest, cut + 1)}
end
if ARGV[1] ~= '' then
  if ARGV[1] == 'failed' then
    redis.call('RPUSH', KEYS[4], ARGV[2])
    redis.call('INCRBY', KEYS[5], '1')
    redis.call('INCRBY', KEYS[6], '1')
  end
  redis.call('INCRBY', KEYS[2], '1')
  redis.call('INCRBY', KEYS[3], '1')
end
for i = 8, #KEYS do
  local job = redis.call('LPOP', KEYS[i])
  if job then
    local payload = job
    if not pcall(cjson.decode, job) then payload = cjson.encode(job) end
    redis.call('SET', KEYS[1], '{"queue":' .. ARGV[i - 3] .. ',"run_at":' .. ARGV[3] .. ',"payload":' .. payload .. '}')
    redis.call('SET', KEYS[7], step .. ':' .. (i - 7) .. ':' .. job, 'EX', '${LAST_STEP_TTL_S}')
    return {i - 7, job}
  end
end
-- The finished job's record goes here, not before the pops: a next job's record replaces it in the same step.
if ARGV[1] ~= '' then redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[7], step .. ':0:', 'EX', '${LAST_STEP_TTL_S}')
return false
`

// A worker's last word, in one atomic step: the end of its job (counted, or failed), a job that a reserve still on
// its way took but the worker never started back at the head of its queue, then Resque's unregister_worker.
// Sent in one piece, it needs no answer to take effect: a Redis that is frozen (or slow) applies it when it
// resumes, even after the worker has exited. KEYS: resque:worker:ID, stat:processed, stat:processed:ID, failed,
// stat:failed, stat:failed:ID, workers, worker:ID:started, workers:heartbeat, the worker's last step, then the
// queues the worker polls.
// ARGV: what to finish ('' nothing, 'ok', or 'failed' with the failure entry in ARGV[2]), the worker's id, then each
// queue's name (JSON). Returns 'done', or 'held' when resque:worker:ID holds a record it cannot place (then nothing
// of the registration is removed, and whoever prunes the worker fails that job, as Resque does).
// Sent again after its reply was lost, it finds neither the last-step key nor the worker in resque:workers (both
// went the first time) and counts nothing twice: the failure entry of a failed last job is not listed twice.
// (Ruby's pruning removes the registration but not the last-step key, so a pruned worker's last job still counts.)
const RETIRE_SCRIPT = `
if ARGV[1] ~= '' and (redis.call('EXISTS', KEYS[10]) == 1 or redis.call('SISMEMBER', KEYS[7], ARGV[3]) == 1) then
  if ARGV[1] == 'failed' then
    redis.call('RPUSH', KEYS[4], ARGV[2])
    redis.call('INCRBY', KEYS[5], '1')
  end
  redis.call('DEL', KEYS[1])
  redis.call('INCRBY', KEYS[2], '1')
end
local held = redis.call('GET', KEYS[1])
if held then
  local placed = false
  local marker = ',"payload":'
  for i = 11, #KEYS do
    local prefix = '{"queue":' .. ARGV[i - 7] .. ',"run_at":"'
    if not placed and string.sub(held, 1, #prefix) == prefix then
      local close = string.find(held, '"', #prefix + 1, true)
      if close and string.sub(held, close + 1, close + #marker) == marker then
        local job = string.sub(held, close + #marker + 1, -2)
        -- The reserve stored a job that is not JSON as a JSON string of its text. (A job that is itself a bare
        -- JSON string of text that is not JSON cannot be told from that; either way it is no job to run.)
        if string.sub(job, 1, 1) == '"' then
          local ok, text = pcall(cjson.decode, job)
          if ok and type(text) == 'string' and not pcall(cjson.decode, text) then job = text end
        end
        redis.call('LPUSH', KEYS[i], job)
        placed = true
      end
    end
  end
  if not placed then return 'held' end
end
redis.call('SREM', KEYS[7], ARGV[3])
redis.call('DEL', KEYS[1], KEYS[3], KEYS[6], KEYS[8], KEYS[10])
redis.call('HDEL', KEYS[9], ARGV[3])
return 'done'
`

// The per-job script's arguments for one queue list: keys and queue names as ioredis takes them, and encoded for
// the fast connection (the key count and keys, then the names), with the count of all of them.
interface ScriptArgs {
  queues: readonly string[]
  signature: string
  keys: string[]
  names: string[]
  count: number
  encodedKeys: string
  encodedNames: string
}

// ARGV before the queue names: what to finish, the failure, run_at, the step.
const ADVANCE_PER_JOB_ARGS = 4

// What the job just run left to record: nothing failed, or the failure.
export type Outcome = { failure?: { error: unknown } }

const ADVANCE_COMMAND = 'rpdAdvance'
const ADVANCE = new FastScript(ADVANCE_SCRIPT)
const RETIRE = new FastScript(RETIRE_SCRIPT)
// A fast connection that closed is opened again no sooner than this.
const FAST_RETRY_MS = 5_000

// One worker's registration in Redis, written the way Ruby Resque writes it.
export class WorkerRegistry {
  private cachedArgs?: ScriptArgs
  private cachedRunAt?: { second: number; plain: string; text: string }
  // Step ids: unique to this process (a worker of the same id before it, a pid reused, left other ones).
  private readonly stepBase = `${process.pid}.${Date.now()}`
  private steps = 0

  // The per-job script goes on a connection of its own when Redis is reachable by plain TCP: ioredis's command
  // machinery cost a worker more CPU per job than the script itself.
  private fast?: FastConnection
  private fastAgainAt = 0
  // The last script went on the fast connection: the exit must follow it there (one connection keeps the order).
  private lastOnFast = false

  constructor(
    private readonly redis: Redis,
    private readonly keys: ResqueKeys,
    readonly id: string,
    private readonly fastTarget?: FastTarget,
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
  async serverTime(): Promise<number> {
    const [seconds] = await this.redis.time()
    return Number(seconds)
  }

  async heartbeat(seconds: number): Promise<void> {
    await this.redis.hset(this.keys.heartbeats, this.id, formatLocalIso8601(new Date(seconds * 1000)))
  }

  // Resque's done_working, reserve and working_on in one atomic step: the finished job's stats (and failure), then
  // LPOP of the first queue with a job, recorded in resque:worker:ID. Done as separate commands, a worker killed
  // between them would take the job with it and leave no trace; done as one script, a job costs one round trip.
  advance(
    queues: readonly string[],
    at: Date,
    finished?: { working: WorkingOn } & Outcome,
  ): Promise<Taken | undefined> {
    return new Promise((resolve, reject) =>
      this.advanceThen(queues, at, finished, (error, taken) => (error ? reject(error) : resolve(taken))),
    )
  }

  // advance, answered through a callback: the worker's job loop sends it once per job and saves a promise each time.
  advanceThen(
    queues: readonly string[],
    at: Date,
    finished: ({ working: WorkingOn } & Outcome) | undefined,
    done: Settle<Taken | undefined>,
  ): void {
    const cached = this.scriptArgs(queues)
    const finish = finished ? (finished.failure ? 'failed' : 'ok') : ''
    const failure = finished?.failure ? this.formatFailure(finished.working, finished.failure.error) : ''
    const runAt = this.runAt(at)
    const step = `${this.stepBase}.${++this.steps}`
    const fast = this.fastConnection()
    this.lastOnFast = fast !== undefined
    const answer: Settle<Reply> = (error, reply) => {
      if (error) return done(error)
      done(
        null,
        Array.isArray(reply) ? { queue: queues[Number(reply[0]) - 1], text: String(reply[1]) } : undefined,
      )
    }
    const args = () => [...cached.keys, finish, failure, runAt, step, ...cached.names]
    if (!fast) {
      ;(this.script(ADVANCE_COMMAND, ADVANCE_SCRIPT, cached.keys.length, args()) as Promise<Reply>).then(
        (reply) => answer(null, reply),
        (error: unknown) => answer(asError(error)),
      )
      return
    }
    // A first send, marked so: only the resend after a lost reply (args as they are) checks the last step. The
    // keys and queue names are encoded once per queue list; only what changes per job is encoded here (all of it
    // ASCII but the failure).
    const encoded =
      cached.encodedKeys +
      encodeAsciiArg(finish) +
      encodeArgs([failure]) +
      encodeAsciiArg(runAt) +
      encodeAsciiArg(`+${step}`) +
      cached.encodedNames
    this.runFastThen(fast, ADVANCE, cached.keys.length, cached.count, encoded, args, answer)
  }

  // The fast connection when it is up; otherwise undefined, opening one if it is time to.
  private fastConnection(): FastConnection | undefined {
    if (this.fast?.usable) return this.fast
    if (!this.fastTarget || (this.fast && !this.fast.lost) || Date.now() < this.fastAgainAt) return undefined
    if (this.redis.status !== 'ready') return undefined
    this.fast = new FastConnection(this.fastTarget)
    this.fastAgainAt = Date.now() + FAST_RETRY_MS
    return undefined
  }

  // A call lost with the fast connection goes again through ioredis, which resends until Redis answers, as it
  // does its own calls that a lost connection left unanswered.
  private runFast(
    fast: FastConnection,
    script: FastScript,
    numberOfKeys: number,
    args: string[],
  ): Promise<Reply> {
    const all = [String(numberOfKeys), ...args]
    return new Promise((resolve, reject) =>
      this.runFastThen(
        fast,
        script,
        numberOfKeys,
        all.length,
        encodeArgs(all),
        () => args,
        (error, reply) => (error ? reject(error) : resolve(reply ?? null)),
      ),
    )
  }

  // `encoded`: the key count and the arguments as sent first (`count` of them); `resend`: the arguments ioredis
  // sends if the connection is lost.
  private runFastThen(
    fast: FastConnection,
    script: FastScript,
    numberOfKeys: number,
    count: number,
    encoded: string,
    resend: () => string[],
    done: Settle<Reply>,
  ): void {
    fast.callEncoded(script, count, encoded, (lost, reply) => {
      if (!lost) return reply instanceof Error ? done(reply) : done(null, reply)
      ;(this.redis.eval(script.lua, numberOfKeys, ...resend()) as Promise<Reply>).then(
        (again) => done(null, again),
        (error: unknown) => done(asError(error)),
      )
    })
  }

  close(): void {
    this.fast?.close()
  }

  // The script's keys and JSON-encoded queue names, built once per queue list (a named group's never changes).
  private scriptArgs(queues: readonly string[]): ScriptArgs {
    // The worker passes the same list until it resolves its globs again: compared by identity first.
    if (this.cachedArgs?.queues === queues) return this.cachedArgs
    const signature = queues.join('\n')
    if (this.cachedArgs?.signature === signature) {
      this.cachedArgs.queues = queues
      return this.cachedArgs
    }
    const keys = [
      this.keys.worker(this.id),
      this.keys.stat('processed'),
      this.keys.stat('processed', this.id),
      this.keys.failed,
      this.keys.stat('failed'),
      this.keys.stat('failed', this.id),
      this.keys.workerLastStep(this.id),
      ...queues.map((queue) => this.keys.queue(queue)),
    ]
    const names = queues.map((queue) => JSON.stringify(queue))
    this.cachedArgs = {
      queues,
      signature,
      keys,
      names,
      count: 1 + keys.length + ADVANCE_PER_JOB_ARGS + names.length,
      encodedKeys: encodeArgs([String(keys.length), ...keys]),
      encodedNames: encodeArgs(names),
    }
    return this.cachedArgs
  }

  // run_at as the script stores it, formatted once per second.
  private runAt(at: Date): string {
    const second = Math.floor(at.getTime() / 1000)
    if (this.cachedRunAt?.second !== second) {
      const plain = formatUtcIso8601(at)
      this.cachedRunAt = { second, plain, text: JSON.stringify(plain) }
    }
    return this.cachedRunAt.text
  }

  // The end of a job (its failure if any, and stats) without taking another: the worker is idle again.
  async finishJob(working: WorkingOn, failure?: { error: unknown }): Promise<void> {
    await this.advance([], new Date(), { working, failure })
  }

  // A failure for a job already counted done (an error it raised later): its record and the failed counts.
  async recordFailure(working: WorkingOn, error: unknown): Promise<void> {
    await this.redis
      .multi()
      .rpush(this.keys.failed, this.formatFailure(working, error))
      .incr(this.keys.stat('failed'))
      .incr(this.keys.stat('failed', this.id))
      .exec()
  }

  // The worker's exit, sent as one EVAL (the full script: a Redis that has not seen it needs no second round trip,
  // which a frozen Redis would never answer), on the connection the last script went on. `live`: it was written to a
  // connection that is up (so Redis has it, or will once it resumes), not queued while ioredis reconnects.
  retire(
    queues: readonly string[],
    finished?: { working: WorkingOn } & Outcome,
  ): { live: boolean; reply: Promise<'done' | 'held'> } {
    const { keys, names } = this.scriptArgs(queues)
    const all = [
      ...keys.slice(0, 6),
      this.keys.workers,
      this.keys.workerStarted(this.id),
      this.keys.heartbeats,
      ...keys.slice(6),
    ]
    const args = [
      finished ? (finished.failure ? 'failed' : 'ok') : '',
      finished?.failure ? this.formatFailure(finished.working, finished.failure.error) : '',
      this.id,
      ...names,
    ]
    const fast = this.lastOnFast && this.fast?.usable ? this.fast : undefined
    if (fast)
      return {
        live: true,
        reply: this.runFast(fast, RETIRE, all.length, [...all, ...args]) as Promise<'done' | 'held'>,
      }
    return {
      live: this.redis.status === 'ready',
      reply: this.redis.eval(RETIRE_SCRIPT, all.length, ...all, ...args) as Promise<'done' | 'held'>,
    }
  }

  // A defined command is sent as EVALSHA: the script travels once, not with every job. Defined without a key
  // count, so each call passes its own (the queue list varies).
  private script(name: string, lua: string, numberOfKeys: number, args: string[]): Promise<unknown> {
    if (!(name in this.redis)) this.redis.defineCommand(name, { lua })
    const command = (this.redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]
    return command.call(this.redis, numberOfKeys, ...args)
  }

  private formatFailure(working: WorkingOn, error: unknown): string {
    return formatFailure({ payload: working.payload, error, worker: this.id, queue: working.queue })
  }

  // The record reserve() stored, as an object (the payload parsed when it is JSON).
  workingOn(queue: string, payload: JobPayload | string, at: Date): WorkingOn {
    this.runAt(at)
    return { queue, run_at: this.cachedRunAt!.plain, payload }
  }

  async restoreWorkingOn(working: WorkingOn): Promise<void> {
    await this.redis.set(this.keys.worker(this.id), stringifyJobJson(working))
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
      .del(this.keys.workerLastStep(this.id))
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

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

async function execOrThrow(batch: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<void> {
  const replies = await batch.exec()
  const failed = replies?.find(([error]) => error)
  if (failed) throw failed[0]
}
