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
