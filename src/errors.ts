// Exit codes every rpd command documents: 0 ok, 1 could not do its job, 2 bad usage or input, 3 not running.
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_NOT_RUNNING = 3

// Stable names for what went wrong, for programs that drive rpd (`error.code`); messages may change, these do not.
export type RpdErrorCode =
  | 'FAILED'
  | 'BAD_INPUT'
  | 'BAD_SPEC'
  | 'NOT_RUNNING'
  | 'NO_POOL'
  | 'ALREADY_RUNNING'
  | 'LOCKED'
  | 'START_FAILED'
  | 'WORKER_FAILED'
  | 'MASTER_EXITED'
  | 'TIMEOUT'
  | 'INTERRUPTED'
  | 'STATE_DIR'
  | 'NO_SPACE'
  | 'REDIS'

function defaultCode(exitCode: number): RpdErrorCode {
  return exitCode === EXIT_USAGE ? 'BAD_INPUT' : exitCode === EXIT_NOT_RUNNING ? 'NOT_RUNNING' : 'FAILED'
}

// The one error class: a one-line message naming what is at fault (and the next step), the exit code the
// CLI exits with, and a stable code.
export class RpdError extends Error {
  readonly exitCode: number
  readonly code: RpdErrorCode
  constructor(message: string, exitCode: number = EXIT_FAILURE, code?: RpdErrorCode) {
    super(message)
    this.name = 'RpdError'
    this.exitCode = exitCode
    this.code = code ?? defaultCode(exitCode)
  }
}

export function usageError(message: string, code: RpdErrorCode = 'BAD_INPUT'): RpdError {
  return new RpdError(message, EXIT_USAGE, code)
}

export function specError(message: string): RpdError {
  return new RpdError(message, EXIT_USAGE, 'BAD_SPEC')
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
