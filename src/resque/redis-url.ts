import { usageError } from '../errors.js'

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

// Checks a Redis URL before ioredis reads it (ioredis takes any other string for a socket path).
export function checkRedisUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw usageError(`bad Redis URL ${JSON.stringify(url.slice(0, 80))}: write it as redis://HOST:PORT[/DB]`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw usageError(`bad Redis URL ${redactUrl(url)}: it must start with redis:// or rediss://`)
  return url
}

// The URL without its password, for messages and status.
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (!parsed.password) return url
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return url
  }
}
