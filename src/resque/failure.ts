import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringifyJobJson } from './job-json.js'
import { formatFailedAt } from './ruby-time.js'

// A Resque job as it sits in a queue.
export interface JobPayload {
  class: string
  args?: unknown
  [key: string]: unknown
}

// An error named the way Ruby Resque names it in `resque:failed` (NameError, Resque::DirtyExit, ...).
export class RubyError extends Error {
  constructor(
    readonly rubyClass: string,
    message: string,
  ) {
    super(message)
    this.name = rubyClass
  }
}

// Ruby's messages for the failures Resque itself records.
export const unknownJobClass = (name: string) => new RubyError('NameError', `uninitialized constant ${name}`)
export const interruptedJob = () => new RubyError('Resque::TermException', 'SIGTERM')
export const stoppedByUncaught = (className: string, exception: string) =>
  new RubyError(
    'Resque::DirtyExit',
    `the worker stopped: ${className} raised ${exception} and nothing caught it`,
  )
export const abandonedJob = () => new RubyError('Resque::DirtyExit', 'Job still being processed')
export const silentWorker = (id: string, job: string | undefined) =>
  new RubyError(
    'Resque::PruneDeadWorkerDirtyExit',
    `Worker ${id} did not gracefully exit while processing ${job ?? '<Unknown Job>'}`,
  )

const RESQUE_DIR = path.dirname(fileURLToPath(import.meta.url))

// The job's own frames: like Resque, cut the trace where the worker's code begins.
function filterBacktrace(stack: string | undefined): string[] {
  if (!stack) return []
  const frames = stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => line.trim().replace(/^at /, ''))
  const ours = frames.findIndex((frame) => frame.includes(RESQUE_DIR))
  return ours < 0 ? frames : frames.slice(0, ours)
}

export function describeError(error: unknown): { exception: string; error: string; backtrace: string[] } {
  if (error instanceof RubyError) return { exception: error.rubyClass, error: error.message, backtrace: [] }
  if (error instanceof Error)
    return {
      exception: error.name || error.constructor.name || 'Error',
      error: error.message,
      backtrace: filterBacktrace(error.stack),
    }
  return { exception: 'Error', error: String(error), backtrace: [] }
}

// One `resque:failed` entry, with Ruby's field names in Ruby's order.
export function formatFailure(options: {
  payload: unknown
  error: unknown
  worker: string
  queue: string
  at?: Date
}): string {
  const { exception, error, backtrace } = describeError(options.error)
  // The payload as queued: a big integer in its args keeps every digit, so a retry runs the same job.
  return stringifyJobJson({
    failed_at: formatFailedAt(options.at),
    payload: options.payload,
    exception,
    error,
    backtrace,
    worker: options.worker,
    queue: options.queue,
  })
}
