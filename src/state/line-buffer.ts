import { StringDecoder } from 'node:string_decoder'

// Cuts a byte stream into whole lines; a partial line waits for its end (or for flush at EOF).
export class LineBuffer {
  private readonly decoder = new StringDecoder('utf8')
  private partial = ''

  push(chunk: Buffer | string): string[] {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk))
    const lines = text.split('\n')
    this.partial = lines.pop() ?? ''
    return lines.map(stripCarriageReturn)
  }

  flush(): string[] {
    const rest = this.partial + this.decoder.end()
    this.partial = ''
    return rest === '' ? [] : [stripCarriageReturn(rest)]
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}
