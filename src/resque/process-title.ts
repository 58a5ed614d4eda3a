// The Resque release whose process titles rpd's worker copies; Ruby Resque's pruning looks for `resque-<digit>`.
export const RESQUE_VERSION = '2.7.0'

// Resque's procline: `resque-VERSION: Waiting for foo`, with the optional RESQUE_PROCLINE_PREFIX.
export function setProcline(text: string): void {
  process.title = `${process.env.RESQUE_PROCLINE_PREFIX ?? ''}resque-${RESQUE_VERSION}: ${text}`
}

// What Resque shows before the worker is registered.
export function setStartingTitle(): void {
  process.title = 'resque: Starting'
}

// What a Resque worker's title (Ruby's or rpd's) says of it: busy with a job, idle, or undefined when the title is
// not Resque's. Ruby shows `Processing QUEUE since EPOCH [Class]` or, forking, `Forked PID at EPOCH` during a job.
export function busyFromTitle(title: string): boolean | undefined {
  const text = /resque-\d[^:\s]*: (.*)$/.exec(title)?.[1] ?? /^resque: (Starting)/.exec(title)?.[1]
  if (text === undefined) return undefined
  if (/^(Processing|Forked) /.test(text)) return true
  if (/^(Waiting for|Paused|Starting)\b/.test(text)) return false
  return undefined
}
