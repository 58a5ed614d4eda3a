import { Redis } from 'ioredis'
import { RpdError, errorMessage } from '../errors.js'
import { checkRedisUrl, redactUrl } from './redis-url.js'
import { redisTlsOptions } from '../proc/extra-ca.js'

// A CLI call gives up on Redis after this long, so a dead server never hangs `status`, `enqueue` or `start`.
export const CONNECT_TIMEOUT_MS = 2_000
// A worker retries a lost Redis with growing delay, up to this.
export const RECONNECT_MIN_MS = 100
export const RECONNECT_MAX_MS = 2_000

// A client for one short job (a CLI call): fails fast instead of queueing commands while Redis is away.
export async function connectOnce(
  url: string,
  timeoutMs = CONNECT_TIMEOUT_MS,
  hint = '; start redis-server or pass --redis URL',
): Promise<Redis> {
  checkRedisUrl(url)
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    disableClientInfo: true,
    ...redisTlsOptions(url),
  })
  // ioredis rejects connect() with a bare "Connection is closed."; the error event carries the reason.
  let reason: unknown
  client.on('error', (error) => {
    reason ??= error
  })
  try {
    await client.connect()
    return client
  } catch (error) {
    client.disconnect()
    throw new RpdError(
      `cannot reach Redis at ${redactUrl(url)}: ${describeRedisError(reason ?? error)}${hint}`,
    )
  }
}

// A worker's client: never gives up; commands wait while Redis is away and run once it is back.
export function connectForever(url: string): Redis {
  return new Redis(checkRedisUrl(url), {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(RECONNECT_MIN_MS * 2 ** Math.min(times - 1, 10), RECONNECT_MAX_MS),
    disableClientInfo: true,
    ...redisTlsOptions(url),
  })
}

export function describeRedisError(error: unknown): string {
  const code = (error as { code?: unknown })?.code
  const message = errorMessage(error) || String(code ?? 'unknown error')
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message
}
