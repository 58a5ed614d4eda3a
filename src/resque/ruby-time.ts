// Time formats Ruby Resque writes into Redis; tools reading Redis parse these exact shapes.

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0')

function localParts(at: Date) {
  return {
    date: `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`,
    time: `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`,
  }
}

// Local UTC offset as +HHMM, or +HH:MM with a separator.
function formatOffset(at: Date, separator: string): string {
  const minutes = -at.getTimezoneOffset()
  const sign = minutes < 0 ? '-' : '+'
  return `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}${separator}${pad(Math.abs(minutes) % 60)}`
}

// Ruby's Time#to_s in local time, `2026-11-27 23:22:23 +0000`: what `resque:worker:ID:started` holds.
export function formatRubyTime(at: Date = new Date()): string {
  const { date, time } = localParts(at)
  return `${date} ${time} ${formatOffset(at, '')}`
}

// Ruby's Time#iso8601 of a local time, `2026-11-27T23:22:23+00:00`: the heartbeat values.
export function formatLocalIso8601(at: Date): string {
  const { date, time } = localParts(at)
  return `${date}T${time}${formatOffset(at, ':')}`
}

// Ruby's Time.now.utc.iso8601, `2026-11-27T23:22:23Z`: run_at of the job a worker is on.
export function formatUtcIso8601(at: Date = new Date()): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

// Resque's failed_at, `2026/11/27 23:22:33 UTC`.
export function formatFailedAt(at: Date = new Date()): string {
  const [date, time] = formatUtcIso8601(at).slice(0, -1).split('T')
  return `${date.replace(/-/g, '/')} ${time} UTC`
}
