// Exit codes every rpd command documents: 0 ok, 1 could not do its job, 2 bad usage or input, 3 not running.
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_NOT_RUNNING = 3

// The one error class: a one-line message naming what is at fault (and the next step), plus the exit code.
export class RpdError extends Error {
  readonly exit: number
  constructor(message: string, exit: number = EXIT_FAILURE) {
    super(message)
    this.name = 'RpdError'
    this.exit = exit
  }
}

export function usageError(message: string): RpdError {
  return new RpdError(message, EXIT_USAGE)
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
