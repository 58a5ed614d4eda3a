import { describe, expect, it } from 'vitest'
import { ECHO_LONG_LINE_CHARS, ECHO_LONG_LINE_NOTE, longLineEcho } from '../src/client/log-echo.js'
import { LINE_SPLIT_MARK } from '../src/state/line-buffer.js'
import { formatJsonLogLine, formatLogLine } from '../src/state/log-file.js'

const AT = new Date('2026-12-03T10:00:00.000Z')
const text = (source: string, pid: number, line: string) => formatLogLine(source, pid, line, AT).slice(0, -1)
const json = (source: string, pid: number, line: string) =>
  formatJsonLogLine(source, pid, line, AT).slice(0, -1)
const piece = (char: string) => char.repeat(1000) + LINE_SPLIT_MARK

// What an echo shows of these lines, in order.
function shown(lines: string[]): string[] {
  const echo = longLineEcho()
  return lines.map(echo).filter((line): line is string => line !== undefined)
}

describe('longLineEcho', () => {
  it('passes ordinary lines through unchanged', () => {
    const lines = [text('master', 1, 'started'), text('foo', 2, 'hello'), text('foo', 2, '')]
    expect(shown(lines)).toEqual(lines)
  })

  it('shows a split line once, cut short with a note, and drops its other pieces and its end', () => {
    const lines = [
      text('foo', 2, piece('a')),
      text('foo', 2, piece('b')),
      text('foo', 2, piece('c')),
      text('foo', 2, 'the end of the long line'),
      text('foo', 2, 'next line'),
    ]
    expect(shown(lines)).toEqual([
      text('foo', 2, 'a'.repeat(ECHO_LONG_LINE_CHARS) + ECHO_LONG_LINE_NOTE),
      text('foo', 2, 'next line'),
    ])
  })

  it('keeps writers apart: another worker’s lines in the middle of a long one are shown', () => {
    const lines = [
      text('foo', 2, piece('a')),
      text('bar', 3, 'bar speaks'),
      text('foo', 2, piece('b')),
      text('foo', 3, 'same queue, other pid'),
      text('foo', 2, 'end'),
      text('master', 1, 'done'),
    ]
    expect(shown(lines)).toEqual([
      text('foo', 2, 'a'.repeat(ECHO_LONG_LINE_CHARS) + ECHO_LONG_LINE_NOTE),
      text('bar', 3, 'bar speaks'),
      text('foo', 3, 'same queue, other pid'),
      text('master', 1, 'done'),
    ])
  })

  it('a second long line from the same writer is shown again', () => {
    const lines = [
      text('foo', 2, piece('a')),
      text('foo', 2, 'end'),
      text('foo', 2, piece('z')),
      text('foo', 2, 'x'),
    ]
    expect(shown(lines)).toHaveLength(2)
    expect(shown(lines)[1]).toContain('z'.repeat(ECHO_LONG_LINE_CHARS) + ECHO_LONG_LINE_NOTE)
  })

  it('reads JSON log lines too, and leaves the mark alone where it is not at the end', () => {
    const lines = [
      json('foo', 2, piece('a')),
      json('foo', 2, 'end'),
      text('foo', 2, `quoting${LINE_SPLIT_MARK} in the middle`),
    ]
    expect(shown(lines)).toEqual([
      text('foo', 2, 'a'.repeat(ECHO_LONG_LINE_CHARS) + ECHO_LONG_LINE_NOTE),
      text('foo', 2, `quoting${LINE_SPLIT_MARK} in the middle`),
    ])
  })
})
