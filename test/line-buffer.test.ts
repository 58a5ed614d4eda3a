import { describe, expect, it } from 'vitest'
import { LINE_SPLIT_MARK, LineBuffer, MAX_LINE_CHARS } from '../src/state/line-buffer.js'

// Feeds the chunks in order, then flushes: every line the buffer gives.
function feed(chunks: (string | Buffer)[], max?: number): string[] {
  const buffer = new LineBuffer(max)
  return [...chunks.flatMap((chunk) => buffer.push(chunk)), ...buffer.flush()]
}

describe('LineBuffer', () => {
  const cases: [string, string[], string[]][] = [
    ['one line', ['a\n'], ['a']],
    ['two in one chunk', ['a\nb\n'], ['a', 'b']],
    ['a line across chunks', ['a', 'b', 'c\n'], ['abc']],
    ['no final newline', ['a\nb'], ['a', 'b']],
    ['CRLF', ['a\r\nb\r\n'], ['a', 'b']],
    ['CRLF split between chunks', ['a\r', '\nb\n'], ['a', 'b']],
    ['a lone CR ends a line', ['1\r2\r3\n'], ['1', '2', '3']],
    ['CR at a chunk end, then text', ['1\r', '2\n'], ['1', '2']],
    ['CR at a chunk end, then an empty chunk, then LF', ['1\r', '', '\n2\n'], ['1', '2']],
    ['empty lines kept', ['\n\n'], ['', '']],
    ['CR CR is two ends', ['a\r\rb\n'], ['a', '', 'b']],
    ['LF CR is two ends', ['a\n\rb\n'], ['a', '', 'b']],
    ['nothing', [], []],
    ['an empty chunk', [''], []],
  ]
  it.each(cases)('%s', (_name, chunks, lines) => {
    expect(feed(chunks)).toEqual(lines)
  })

  it('keeps a UTF-8 character split between chunks whole', () => {
    const bytes = Buffer.from('é€😀\n')
    expect(
      feed([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4, 8), bytes.subarray(8)]),
    ).toEqual(['é€😀'])
  })

  it('cuts a line at the bound, marks each piece but the last, and loses nothing', () => {
    const lines = feed(['abcdefghij\n'], 4)
    expect(lines).toEqual([`abcd${LINE_SPLIT_MARK}`, `efgh${LINE_SPLIT_MARK}`, 'ij'])
    expect(lines.map((l) => l.replace(LINE_SPLIT_MARK, '')).join('')).toBe('abcdefghij')
  })

  it('cuts across chunks at the same places as within one', () => {
    const text = 'x'.repeat(23)
    const whole = feed([`${text}\n`], 5)
    const bytes = feed([...text].concat('\n'), 5)
    expect(bytes).toEqual(whole)
    expect(whole).toHaveLength(5)
  })

  it('a line of exactly the bound is one piece and one empty remainder is not emitted', () => {
    expect(feed(['abcd'], 4)).toEqual([`abcd${LINE_SPLIT_MARK}`])
    expect(feed(['abc\n'], 4)).toEqual(['abc'])
  })

  it('never splits a surrogate pair', () => {
    const lines = feed(['ab😀cd\n'], 3)
    for (const line of lines) expect(line.replace(LINE_SPLIT_MARK, '')).not.toMatch(/[\ud800-\udbff]$/)
    expect(lines.map((l) => l.replace(LINE_SPLIT_MARK, '')).join('')).toBe('ab😀cd')
  })

  it('holds no more than the bound whatever arrives without an end', () => {
    const buffer = new LineBuffer()
    const chunk = 'z'.repeat(65_536)
    let emitted = 0
    for (let i = 0; i < 200; i++) emitted += buffer.push(chunk).length
    // 200 chunks of 64 KiB: each completes one piece at the bound.
    expect(emitted).toBe(200)
    const rest = buffer.flush()
    expect(rest.every((line) => line.length <= MAX_LINE_CHARS)).toBe(true)
  })

  it('a million one-character chunks give one piece per bound', () => {
    const buffer = new LineBuffer()
    let lines = 0
    for (let i = 0; i < 1_000_000; i++) lines += buffer.push('a').length
    lines += buffer.flush().length
    expect(lines).toBe(Math.ceil(1_000_000 / MAX_LINE_CHARS))
  })
})
