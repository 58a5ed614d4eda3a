import type { PoolOptions } from '../../client/pool.js'
import { createProgress, formatProgress } from '../../present/progress.js'
import { useColour } from '../../present/terminal.js'
import type { ActionInput } from './action.js'

export interface LiveProgress extends Required<Pick<PoolOptions, 'onLine'>>, Pick<PoolOptions, 'onProgress'> {
  // Clears the live line: before the final lines, or an error.
  finish(): void
}

// On a terminal: the master's lines scroll above one live line of progress (colour unless NO_COLOR).
// Elsewhere: the plain lines, as ever.
export function liveProgress({ terminal, print }: ActionInput): LiveProgress {
  if (!terminal?.isTTY) return { onLine: print, finish: () => undefined }
  const colour = useColour(terminal, process.env)
  const progress = createProgress(terminal)
  // A second ^C exits at once: the live line is cleared on the way out too.
  function finish() {
    progress.done()
    process.off('exit', finish)
  }
  process.on('exit', finish)
  return {
    onLine: (line) => progress.line(line),
    onProgress: (reached) => progress.update(formatProgress(reached, colour)),
    finish,
  }
}
