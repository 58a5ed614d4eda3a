// `rpd start` launches the master before pool.yml is written, so that Node's start and the master's imports
// overlap the CLI's own work; the master then waits on its stdin (a pipe from the CLI) for the word to go on.
import fs from 'node:fs'

// Set in the environment of a master launched held; the master drops it, so its workers never see it.
export const HELD_ENV = 'RPD_HELD_START'
export const RELEASE_WORD = 'go'

// Blocks until the CLI's word, `go` and the pool as JSON on one line (what it has just written to pool.yml,
// without the YAML to parse): returns that JSON, or undefined for anything else or the pipe closing without
// it (start gave up, or its process ended). Nothing else runs in the master meanwhile, so a blocking read is
// the cheapest wait there is.
export function awaitRelease(fd = 0): string | undefined {
  const chunk = Buffer.alloc(64 * 1024)
  const parts: Buffer[] = []
  for (;;) {
    let count: number
    try {
      count = fs.readSync(fd, chunk)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EINTR') continue
      // A pipe left non-blocking: nothing to read yet.
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
        continue
      }
      return undefined
    }
    if (count === 0) return undefined
    const end = chunk.subarray(0, count).indexOf(10)
    parts.push(Buffer.from(chunk.subarray(0, end >= 0 ? end : count)))
    if (end < 0) continue
    const line = Buffer.concat(parts).toString('utf8')
    return line.startsWith(`${RELEASE_WORD} `) ? line.slice(RELEASE_WORD.length + 1) : undefined
  }
}

export function releaseLine(poolDocument: Record<string, unknown>): string {
  return `${RELEASE_WORD} ${JSON.stringify(poolDocument)}\n`
}
