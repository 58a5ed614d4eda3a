import { describe, expect, it } from 'vitest'
import { measureProgress } from '../src/client/progress-report.js'
import { createProgress, formatProgress } from '../src/present/progress.js'
import type { StatusFile, WorkerStatus } from '../src/state/status-file.js'
import { waitFor } from './helpers/cli.js'

// A writable text stream in memory: what a terminal (or a pipe) would have received.
function streamOf(options: { isTTY?: boolean; columns?: number } = {}) {
  const chunks: string[] = []
  return {
    ...options,
    chunks,
    write(chunk: string) {
      chunks.push(chunk)
      return true
    },
    get text() {
      return chunks.join('')
    },
  }
}

// What a terminal shows for the text: \r returns to column 0, ESC[K clears the rest of the line.
function screenOf(text: string): string[] {
  const lines: string[] = ['']
  let column = 0
  for (let i = 0; i < text.length; i++) {
    const rest = text.slice(i)
    if (rest.startsWith('\x1b[K')) {
      lines[lines.length - 1] = lines[lines.length - 1].slice(0, column)
      i += 2
    } else if (text[i] === '\r') column = 0
    else if (text[i] === '\n') {
      lines.push('')
      column = 0
    } else {
      const line = lines[lines.length - 1]
      lines[lines.length - 1] = line.slice(0, column) + text[i] + line.slice(column + 1)
      column++
    }
  }
  return lines
}

describe('createProgress on a terminal', () => {
  it('rewrites one line in place', () => {
    const stream = streamOf({ isTTY: true })
    const progress = createProgress(stream, { throttleMs: 0 })
    progress.update('1/8 started')
    progress.update('2/8 started')
    progress.update('3/8 started')
    expect(stream.chunks).toEqual(['\r1/8 started\x1b[K', '\r2/8 started\x1b[K', '\r3/8 started\x1b[K'])
    expect(screenOf(stream.text)).toEqual(['3/8 started'])
    expect(stream.text).not.toContain('\n')
  })

  it('clears leftovers of a longer earlier text', () => {
    const stream = streamOf({ isTTY: true })
    const progress = createProgress(stream, { throttleMs: 0 })
    progress.update('stopping 5 … waiting for 2 busy')
    progress.update('stopping 5 … done')
    expect(screenOf(stream.text)).toEqual(['stopping 5 … done'])
  })

  it('prints permanent lines above the live one and keeps it', () => {
    const stream = streamOf({ isTTY: true })
    const progress = createProgress(stream, { throttleMs: 0 })
    progress.update('1/3 started')
    progress.line('images: worker 101 failed to start')
    progress.update('2/3 started')
    expect(screenOf(stream.text)).toEqual(['images: worker 101 failed to start', '2/3 started'])
  })

  it('done clears the live line and leaves the final text', () => {
    const stream = streamOf({ isTTY: true })
    const progress = createProgress(stream, { throttleMs: 0 })
    progress.update('7/8 started')
    progress.done('Started 8 workers (pid 4242)')
    expect(screenOf(stream.text)).toEqual(['Started 8 workers (pid 4242)', ''])
    const quiet = streamOf({ isTTY: true })
    const other = createProgress(quiet, { throttleMs: 0 })
    other.update('x')
    other.done()
    expect(screenOf(quiet.text)).toEqual([''])
  })

  it('keeps the live text on one line and within the width', () => {
    const stream = streamOf({ isTTY: true, columns: 20 })
    const progress = createProgress(stream, { throttleMs: 0 })
    progress.update('waiting\nfor 2 busy workers in images and mail')
    const screen = screenOf(stream.text)
    expect(screen).toHaveLength(1)
    expect(screen[0]).toBe('waiting for 2 busy…')
    expect([...screen[0]].length).toBeLessThan(20)
  })

  it('writes nothing for an unchanged text', () => {
    const stream = streamOf({ isTTY: true })
    const progress = createProgress(stream, { throttleMs: 0 })
    progress.update('same')
    progress.update('same')
    expect(stream.chunks).toHaveLength(1)
  })

  it('throttles redraws but always ends showing the latest text', async () => {
    const stream = streamOf({ isTTY: true })
    let clock = 1000
    const progress = createProgress(stream, { throttleMs: 80, now: () => clock })
    progress.update('1/8 started')
    clock += 10
    progress.update('2/8 started')
    progress.update('3/8 started')
    expect(stream.chunks).toEqual(['\r1/8 started\x1b[K'])
    await waitFor(() => stream.text.includes('3/8'), 'the throttled update to be drawn', 5000, 10)
    expect(stream.text).not.toContain('2/8')
    clock += 500
    progress.update('4/8 started')
    expect(stream.chunks.at(-1)).toBe('\r4/8 started\x1b[K')
    expect(screenOf(stream.text)).toEqual(['4/8 started'])
  })

  it('a permanent line shows a pending update at once, and done drops it', async () => {
    const stream = streamOf({ isTTY: true })
    let clock = 0
    const progress = createProgress(stream, { throttleMs: 60_000, now: () => clock })
    progress.update('1/2 started')
    clock += 1
    progress.update('2/2 started')
    progress.line('note')
    expect(screenOf(stream.text)).toEqual(['note', '2/2 started'])
    progress.update('stopping')
    progress.done('Stopped')
    expect(screenOf(stream.text)).toEqual(['note', 'Stopped', ''])
  })

  it('follows the stream when no tty option is given', () => {
    const stream = streamOf({ isTTY: true })
    createProgress(stream, { throttleMs: 0 }).update('live')
    expect(stream.text).toBe('\rlive\x1b[K')
  })
})

describe('createProgress not on a terminal', () => {
  it('prints only the permanent lines, plainly', () => {
    const stream = streamOf({ isTTY: false })
    const progress = createProgress(stream)
    progress.update('1/8 started')
    progress.line('images: 2 workers started')
    progress.update('2/8 started')
    progress.line('mail: 1 worker started')
    progress.done('Started 3 workers')
    expect(stream.text).toBe('images: 2 workers started\nmail: 1 worker started\nStarted 3 workers\n')
    expect(stream.text).not.toContain('\r')
    expect(stream.text).not.toContain('\x1b')
  })

  it('is plain when told the stream is not a terminal, even if it is one', () => {
    const stream = streamOf({ isTTY: true })
    const progress = createProgress(stream, { tty: false })
    progress.update('live')
    progress.done()
    expect(stream.chunks).toEqual([])
  })

  it('is live when told so, for a stream without isTTY', () => {
    const stream = streamOf()
    const progress = createProgress(stream, { tty: true, throttleMs: 0 })
    progress.update('live')
    expect(stream.text).toBe('\rlive\x1b[K')
  })
})

describe('createProgress with colours', () => {
  it('keeps colours on a text that fits, and drops them from one it must cut', () => {
    const wide = streamOf({ isTTY: true, columns: 80 })
    createProgress(wide, { throttleMs: 0 }).update('\x1b[1m3/8\x1b[0m started')
    expect(wide.text).toBe('\r\x1b[1m3/8\x1b[0m started\x1b[K')
    const narrow = streamOf({ isTTY: true, columns: 6 })
    createProgress(narrow, { throttleMs: 0 }).update('\x1b[1m3/8\x1b[0m started')
    expect(narrow.text).toBe('\r3/8 …\x1b[K')
  })
})

const progress = (fields: Partial<Parameters<typeof formatProgress>[0]>) => ({
  action: 'start' as const,
  started: 0,
  total: 0,
  stopping: 0,
  busy: 0,
  ...fields,
})

describe('formatProgress', () => {
  it('counts workers started, replaced and stopping', () => {
    expect(formatProgress(progress({ started: 3, total: 8 }))).toBe('3/8 started')
    expect(formatProgress(progress({ action: 'restart', started: 1, total: 4, stopping: 1 }))).toBe(
      '1/4 replaced, stopping 1',
    )
    expect(formatProgress(progress({ action: 'scale', started: 2, total: 2, stopping: 3, busy: 1 }))).toBe(
      'stopping 3 … waiting for 1 busy',
    )
    expect(formatProgress(progress({ action: 'stop', stopping: 5, busy: 2 }))).toBe(
      'stopping 5 … waiting for 2 busy',
    )
    expect(formatProgress(progress({ action: 'stop' }))).toBe('stopping the master')
  })

  it('paints only when asked', () => {
    const painted = formatProgress(progress({ action: 'stop', stopping: 5, busy: 2 }), true)
    expect(painted).toBe('stopping \x1b[1m5\x1b[0m … \x1b[33mwaiting for 2 busy\x1b[0m')
    expect(formatProgress(progress({ started: 1, total: 2 }), false)).not.toContain('\x1b')
  })
})

describe('measureProgress', () => {
  let slot = 0
  const worker = (queues: string, state: WorkerStatus['state'], fields: Partial<WorkerStatus> = {}) =>
    ({
      slot: ++slot,
      // No such process: what the worker reported is all there is to go by.
      pid: 2 ** 22 + slot,
      startTime: '1',
      queues,
      state,
      startedAt: '',
      restarts: 0,
      epoch: 0,
      lastExit: null,
      job: null,
      ...fields,
    }) as WorkerStatus
  const statusOf = (formation: Record<string, number>, workers: WorkerStatus[]) =>
    ({ formation, workers }) as unknown as StatusFile
  const job = { class: 'Slow', queue: 'foo', since: '' }

  it('counts running workers up to each group’s count, and the stopping ones with their jobs', () => {
    const status = statusOf({ foo: 3, bar: 1 }, [
      worker('foo', 'running'),
      worker('foo', 'starting'),
      worker('bar', 'running'),
      worker('bar', 'running'),
      worker('baz', 'stopping', { job }),
      worker('baz', 'stopping'),
      worker('foo', 'backoff'),
    ])
    expect(measureProgress(status, 'scale')).toEqual({
      action: 'scale',
      started: 2,
      total: 4,
      stopping: 2,
      busy: 1,
    })
  })

  it('for a restart counts only replacements of the groups named', () => {
    const status = statusOf({ foo: 2, bar: 1 }, [
      worker('foo', 'running', { epoch: 1 }),
      worker('foo', 'running', { epoch: 0 }),
      worker('bar', 'running', { epoch: 0 }),
    ])
    expect(measureProgress(status, 'restart', { foo: 1 })).toMatchObject({ started: 1, total: 2 })
  })

  it('for a stop counts every worker still there', () => {
    const status = statusOf({ foo: 2 }, [worker('foo', 'stopping', { job }), worker('foo', 'running')])
    expect(measureProgress(status, 'stop')).toEqual({
      action: 'stop',
      started: 0,
      total: 0,
      stopping: 2,
      busy: 1,
    })
  })
})
