import type { Redis } from 'ioredis'
import { usageError } from '../errors.js'
import { showToken, validateGroup } from '../state/formation.js'
import { readPool } from '../state/pool-file.js'
import { inspectStateDir, statePaths } from '../state/state-dir.js'
import { DEFAULT_NAMESPACE, ResqueKeys } from './keys.js'
import { connectOnce } from './redis-client.js'
import { DEFAULT_REDIS_URL, checkRedisUrl } from './redis-url.js'
import { stringifyJobJson } from './job-json.js'

export const MAX_ENQUEUE_COUNT = 1_000_000
// Values per RPUSH inside the one pipeline, so a big --count never builds one huge command.
const PUSH_BATCH = 1_000

export interface RedisTarget {
  url: string
  namespace: string
}

export interface EnqueueRequest extends RedisTarget {
  queue: string
  className: string
  // The job's arguments as values (bigints for integers past 2^53)...
  args: readonly unknown[]
  // ...or as JSON texts, written exactly as typed (the CLI: encodeJobArg keeps 2.0 a Float for Ruby).
  rawArgs?: readonly string[]
  count?: number
}

export interface EnqueueResult extends RedisTarget {
  pushed: number
  // The queue's length right after the push.
  length: number
}

// --redis, else REDIS_URL, else the pool's saved Redis (pool.yml), else the default; the namespace likewise.
export function chooseRedisTarget(options: {
  url?: string
  namespace?: string
  stateDir?: string
  env?: NodeJS.ProcessEnv
}): RedisTarget {
  const env = options.env ?? process.env
  let saved: { redis?: string; namespace?: string } | undefined
  if (options.stateDir && (!options.url || !options.namespace)) {
    try {
      saved = inspectStateDir(options.stateDir) ? readPool(statePaths(options.stateDir)) : undefined
    } catch {
      // An unreadable pool.yml only means there is no saved Redis to default to.
      saved = undefined
    }
  }
  return {
    url: options.url || env.REDIS_URL || saved?.redis || DEFAULT_REDIS_URL,
    namespace: options.namespace || saved?.namespace || DEFAULT_NAMESPACE,
  }
}

function checkRequest(request: EnqueueRequest): number {
  if (!request.queue || !request.className)
    throw usageError(
      `missing ${request.queue ? 'CLASS' : 'QUEUE and CLASS'}: rpd enqueue QUEUE CLASS [ARG...], e.g. rpd enqueue mail SendEmail 42`,
    )
  validateGroup(request.queue)
  if (request.queue.includes(','))
    throw usageError(`queue ${showToken(request.queue)} names several queues: enqueue to one queue at a time`)
  if (!request.className || /[\s\p{Cc}]/u.test(request.className))
    throw usageError(
      `bad job class ${showToken(request.className)}: give a class name such as SendEmail or Mailer::Deliver`,
    )
  const count = request.count ?? 1
  if (!Number.isInteger(count) || count < 1 || count > MAX_ENQUEUE_COUNT)
    throw usageError(`bad --count ${count}: use a whole number from 1 to ${MAX_ENQUEUE_COUNT}`)
  if (!request.namespace || /[\s\p{Cc}]/u.test(request.namespace))
    throw usageError(`bad namespace ${showToken(request.namespace)}`)
  checkRedisUrl(request.url)
  return count
}

// An argument's JSON text in the payload: as typed when it is JSON, so `2.0` stays a Float and
// `12345678901234567890` an exact Integer for Ruby (a round trip through a JS number would make them 2 and 1.2e19).
export function encodeJobArg(text: string): string {
  try {
    JSON.parse(text)
    return text.trim()
  } catch {
    return JSON.stringify(text)
  }
}

// Pushes a job as Ruby Resque's Resque.push does: SADD resque:queues, RPUSH resque:queue:NAME {"class","args"}.
// A caller that enqueues often passes its own connected client (kept open); else one is opened for the call.
export async function enqueueJobs(request: EnqueueRequest, client?: Redis): Promise<EnqueueResult> {
  const count = checkRequest(request)
  const args = request.rawArgs ? request.rawArgs.join(',') : request.args.map(stringifyJobJson).join(',')
  const job = `{"class":${JSON.stringify(request.className)},"args":[${args}]}`
  const keys = new ResqueKeys(request.namespace)
  const redis = client ?? (await connectOnce(request.url))
  try {
    const pipeline = redis.pipeline().sadd(keys.queues, request.queue)
    for (let left = count; left > 0; left -= PUSH_BATCH)
      pipeline.rpush(keys.queue(request.queue), ...Array(Math.min(left, PUSH_BATCH)).fill(job))
    const replies = (await pipeline.exec()) ?? []
    const failed = replies.find(([error]) => error)
    if (failed) throw failed[0]
    const length = Number(replies[replies.length - 1][1])
    return { url: request.url, namespace: request.namespace, pushed: count, length }
  } finally {
    if (!client) redis.disconnect()
  }
}
