import type { PoolProgress } from '../client/progress-report.js'
import { CLEAR_TO_LINE_END, paint, sanitizeText, truncateToWidth } from './terminal.js'

// A live one-line progress (`3/8 started`) for commands that wait; permanent lines print above it.
// Not on a terminal, the live line is left out and permanent lines print as plain lines.

export const PROGRESS_THROTTLE_MS = 100

export interface ProgressStream {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
}

export interface ProgressOptions {
  // Default: the stream's own isTTY.
  tty?: boolean
  throttleMs?: number
  // Injected clock for the throttle (milliseconds).
  now?: () => number
}

export interface Progress {
  // Rewrites the live line; at most one redraw per throttle interval, the latest text always shown.
  update(text: string): void
  // Prints a permanent line above the live one.
  line(text: string): void
  // Clears the live line, then prints the final text if any.
  done(text?: string): void
}

export function createProgress(stream: ProgressStream, options: ProgressOptions = {}): Progress {
  const tty = options.tty ?? stream.isTTY === true
  if (!tty) return createPlainProgress(stream)
  const throttleMs = options.throttleMs ?? PROGRESS_THROTTLE_MS
  const now = options.now ?? Date.now
  let shown: string | null = null
  let pending: string | null = null
  let drawnAt = -Infinity
  let timer: NodeJS.Timeout | undefined

  const fit = (text: string) => {
    const plain = stripColours(text)
    const oneLine = sanitizeText(plain.replace(/\s*\n\s*/g, ' '))
    // One cell short of the width: a line that fills it would wrap on some terminals.
    const fitted =
      stream.columns && stream.columns > 1 ? truncateToWidth(oneLine, stream.columns - 1) : oneLine
    // Colours stay only on a text that needed no cutting or replacing.
    return fitted === plain ? text : fitted
  }
  const draw = (text: string) => {
    stream.write(`\r${text}${CLEAR_TO_LINE_END}`)
    shown = text
    pending = null
    drawnAt = now()
  }
  const cancelTimer = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
  }
  const clear = () => {
    if (shown !== null) stream.write(`\r${CLEAR_TO_LINE_END}`)
    shown = null
  }

  return {
    update(text) {
      const next = fit(text)
      if (next === shown && pending === null) return
      const wait = drawnAt + throttleMs - now()
      if (wait <= 0) {
        cancelTimer()
        draw(next)
        return
      }
      pending = next
      if (timer) return
      timer = setTimeout(() => {
        timer = undefined
        if (pending !== null) draw(pending)
      }, wait)
      timer.unref()
    },
    line(text) {
      const live = pending ?? shown
      cancelTimer()
      clear()
      stream.write(`${text}\n`)
      if (live !== null) draw(live)
    },
    done(text) {
      cancelTimer()
      pending = null
      clear()
      if (text !== undefined) stream.write(`${text}\n`)
    },
  }
}

// eslint-disable-next-line no-control-regex
const stripColours = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '')

function createPlainProgress(stream: ProgressStream): Progress {
  return {
    update() {},
    line(text) {
      stream.write(`${text}\n`)
    },
    done(text) {
      if (text !== undefined) stream.write(`${text}\n`)
    },
  }
}

// The live line for a waiting command: `3/8 started`, `stopping 5 … waiting for 2 busy`.
export function formatProgress(progress: PoolProgress, colour = false): string {
  const count = (text: string) => paint(text, 'bold', colour)
  const parts: string[] = []
  const verb = progress.action === 'restart' ? 'replaced' : 'started'
  if (progress.action !== 'stop' && (progress.started < progress.total || !progress.stopping))
    parts.push(`${count(`${progress.started}/${progress.total}`)} ${verb}`)
  if (progress.stopping || progress.action === 'stop') {
    const busy = progress.busy ? ` … ${paint(`waiting for ${progress.busy} busy`, 'yellow', colour)}` : ''
    parts.push(
      progress.stopping ? `stopping ${count(String(progress.stopping))}${busy}` : 'stopping the master',
    )
  }
  return parts.join(', ')
}
