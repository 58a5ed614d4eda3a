import fs from 'node:fs'
import { LineBuffer, MAX_LINE_CHARS } from './line-buffer.js'

const CHUNK_BYTES = 64 * 1024
// A "line" longer than this (a run of NULs a crash left, binary junk) is skipped while reading backwards,
// so such a run costs one pass over it, not a copy per chunk.
export const MAX_LINE_BYTES = 1024 * 1024
// A safety net for what the file system does not announce (a master killed with SIGKILL writes nothing).
export const WATCH_FALLBACK_MS = 250

export function logSize(file: string): number {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

// The last n lines of a file, read backwards in chunks so a large log costs no more than its tail.
export function readLastLines(file: string, n: number): string[] {
  return readLastMatching(file, n).lines
}

// The last n lines that accept() takes, read backwards in chunks; bytesRead tells how much of the file that cost.
export function readLastMatching(
  file: string,
  n: number,
  accept: (line: string) => boolean = () => true,
): { lines: string[]; bytesRead: number } {
  if (n <= 0) return { lines: [], bytesRead: 0 }
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch {
    return { lines: [], bytesRead: 0 }
  }
  try {
    const size = fs.fstatSync(fd).size
    let position = size
    // Bytes of a line cut by a chunk boundary, kept until the chunk before completes it.
    let partial = Buffer.alloc(0)
    const found: string[] = []
    let first = true
    while (position > 0 && found.length < n) {
      const length = Math.min(CHUNK_BYTES, position)
      position -= length
      const chunk = Buffer.alloc(length)
      fs.readSync(fd, chunk, 0, length, position)
      const joined = Buffer.concat([chunk, partial])
      const cut = position > 0 ? joined.indexOf(0x0a) : -1
      partial = cut >= 0 ? joined.subarray(0, cut) : position > 0 ? joined : Buffer.alloc(0)
      if (partial.length > MAX_LINE_BYTES) partial = Buffer.alloc(0)
      if (cut < 0 && position > 0) continue
      const whole = joined.subarray(cut + 1).toString('utf8')
      const lines = whole.split('\n')
      if (first && lines[lines.length - 1] === '') lines.pop()
      first = false
      for (let i = lines.length - 1; i >= 0 && found.length < n; i--)
        if (accept(lines[i])) found.push(lines[i])
    }
    return { lines: found.reverse(), bytesRead: size - position }
  } finally {
    fs.closeSync(fd)
  }
}

// Reads the lines appended to a log since an offset; follows it across rotation (a new file at the same path).
export class LogReader {
  private fd?: number
  private ino?: number
  // Room for a worker line at its bound plus the prefix the master adds.
  private readonly lines = new LineBuffer(2 * MAX_LINE_CHARS)

  constructor(
    private readonly file: string,
    private offset: number,
  ) {}

  read(): string[] {
    const out: string[] = []
    if (this.fd === undefined) this.open()
    if (this.fd !== undefined) out.push(...this.drain())
    const current = statIno(this.file)
    if (current !== undefined && current !== this.ino) {
      this.close()
      this.offset = 0
      this.open()
      if (this.fd !== undefined) out.push(...this.drain())
    }
    return out
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd)
    this.fd = undefined
  }

  private open(): void {
    try {
      this.fd = fs.openSync(this.file, 'r')
      const stat = fs.fstatSync(this.fd)
      this.ino = stat.ino
      if (stat.size < this.offset) this.offset = 0
    } catch {
      this.fd = undefined
    }
  }

  private drain(): string[] {
    const out: string[] = []
    const buffer = Buffer.alloc(CHUNK_BYTES)
    for (;;) {
      const read = fs.readSync(this.fd!, buffer, 0, CHUNK_BYTES, this.offset)
      if (read <= 0) break
      this.offset += read
      out.push(...this.lines.push(buffer.subarray(0, read)))
    }
    return out
  }
}

function statIno(file: string): number | undefined {
  try {
    return fs.statSync(file).ino
  } catch {
    return undefined
  }
}

export interface FollowOptions<T> {
  dir: string
  reader?: LogReader
  onLine?: (line: string) => void
  // Called on every change; a defined result ends the wait.
  check: () => T | undefined
  timeoutMs?: number
  signal?: AbortSignal
  // True when the awaited change is imminent but has no event of its own (a process about to exit):
  // then check again after SOON_MS instead of waiting for the fallback tick.
  soon?: () => boolean
}

export const SOON_MS = 5

// Waits, printing new log lines, until check() answers, the timeout passes or the signal aborts.
// Wakes on file-system events in the state directory, with a slow fallback tick.
export function follow<T>(options: FollowOptions<T>): Promise<{ result?: T; timedOut: boolean }> {
  return new Promise((resolve) => {
    let watcher: fs.FSWatcher | undefined
    let done = false
    const finish = (value: { result?: T; timedOut: boolean }) => {
      if (done) return
      done = true
      watcher?.close()
      clearInterval(tick)
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      resolve(value)
    }
    const pump = () => {
      if (done) return
      if (options.reader) for (const line of options.reader.read()) options.onLine?.(line)
      const result = options.check()
      if (result !== undefined) {
        if (options.reader) for (const line of options.reader.read()) options.onLine?.(line)
        finish({ result, timedOut: false })
      } else if (options.soon?.()) {
        setTimeout(pump, SOON_MS)
      }
    }
    const onAbort = () => finish({ timedOut: false })
    try {
      watcher = fs.watch(options.dir, () => pump())
      watcher.on('error', () => undefined)
    } catch {
      watcher = undefined
    }
    const tick = setInterval(pump, WATCH_FALLBACK_MS)
    const timer =
      options.timeoutMs !== undefined && options.timeoutMs > 0
        ? setTimeout(() => {
            pump()
            finish({ timedOut: true })
          }, options.timeoutMs)
        : undefined
    options.signal?.addEventListener('abort', onAbort)
    pump()
  })
}
