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

export interface TitleJob {
  queue: string
  class: string
  since: string
}

// The job a Resque title names (`Processing QUEUE since EPOCH [Class]`): null for an idle title, undefined
// for a title that is not Resque's or says busy without naming the job (Ruby's `Forked PID at EPOCH`).
export function jobFromTitle(title: string): TitleJob | null | undefined {
  const busy = busyFromTitle(title)
  if (busy === false) return null
  const match = /resque-\d[^:\s]*: Processing (\S+) since (\d+)(?: \[(.*)\])?/.exec(title)
  if (!match) return undefined
  return {
    queue: match[1],
    class: match[3] ?? 'unknown',
    since: new Date(Number(match[2]) * 1000).toISOString(),
  }
}

// The pid Ruby's `Forked PID at EPOCH` names: the child working the job, whose own title names it.
export function forkedChildFromTitle(title: string): number | undefined {
  const match = /resque-\d[^:\s]*: Forked (\d+) at \d+/.exec(title)
  return match ? Number(match[1]) : undefined
}
