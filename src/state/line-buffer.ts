import { StringDecoder } from 'node:string_decoder'

// The longest line kept whole: a worker printing without newlines costs the master this much, not the whole output.
export const MAX_LINE_CHARS = 64 * 1024
// Ends each piece of a line cut at the bound; the next line carries on where it stopped.
export const LINE_SPLIT_MARK = ' [line split: continues]'

// Cuts a byte stream into lines at \n, \r\n or a lone \r (a progress counter's update is a line of its own).
// Each chunk is scanned once and a partial line never grows past maxChars, so cost stays linear in the output.
export class LineBuffer {
  private readonly decoder = new StringDecoder('utf8')
  private partial: string[] = []
  private partialChars = 0
  // A chunk ended on \r: a \n that starts the next one belongs to it.
  private afterCarriageReturn = false

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk)
    const lines: string[] = []
    let start = this.afterCarriageReturn && text.startsWith('\n') ? 1 : 0
    if (text.length) this.afterCarriageReturn = false
    const ends = /[\r\n]/g
    ends.lastIndex = start
    for (let match = ends.exec(text); match; match = ends.exec(text)) {
      this.append(text.slice(start, match.index), lines)
      lines.push(this.take())
      let end = match.index + 1
      if (text[match.index] === '\r') {
        if (text[end] === '\n') end += 1
        else if (end === text.length) this.afterCarriageReturn = true
      }
      start = end
      ends.lastIndex = end
    }
    this.append(text.slice(start), lines)
    return lines
  }

  flush(): string[] {
    const lines: string[] = []
    this.append(this.decoder.end(), lines)
    if (this.partialChars) lines.push(this.take())
    this.afterCarriageReturn = false
    return lines
  }

  // Adds text to the partial line; whatever reaches the bound leaves at once as a marked piece.
  private append(text: string, lines: string[]): void {
    let rest = text
    while (this.partialChars + rest.length >= this.maxChars && rest.length) {
      let cut = this.maxChars - this.partialChars
      // Never split a surrogate pair.
      if (cut > 0 && isHighSurrogate(rest.charCodeAt(cut - 1))) cut -= 1
      if (cut <= 0) break
      this.partial.push(rest.slice(0, cut))
      lines.push(this.take() + LINE_SPLIT_MARK)
      rest = rest.slice(cut)
    }
    if (!rest) return
    this.partial.push(rest)
    this.partialChars += rest.length
  }

  private take(): string {
    const line = this.partial.join('')
    this.partial = []
    this.partialChars = 0
    return line
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}
