import { EXIT_USAGE, RpdError } from '../errors.js'

// Node's timers hold a signed 32-bit count of milliseconds; a longer delay fires after 1 ms instead.
export const MAX_TIMEOUT_MS = 2 ** 31 - 1
export const MAX_TIMEOUT_S = Math.floor(MAX_TIMEOUT_MS / 1000)

// Refuses a timeout Node cannot wait for, naming where it came from (`--timeout 2200000`).
export function checkTimeoutMs<T extends number | undefined>(ms: T, source: string): T {
  if (ms !== undefined && !(ms <= MAX_TIMEOUT_MS))
    throw new RpdError(`${source}: at most ${MAX_TIMEOUT_S} s (about 24 days)`, EXIT_USAGE, 'BAD_INPUT')
  return ms
}
