import net from 'node:net'
import { createHash } from 'node:crypto'

// The reply of a script as RESP2 gives it: nil, an integer, a string, an error, or an array of these.
export type Reply = null | number | string | Error | Reply[]

// Raised for every call still waiting when the connection closes: Redis may or may not have run it.
export class ConnectionLost extends Error {
  constructor() {
    super('connection to Redis closed')
  }
}

// Called once with the reply, or with ConnectionLost.
export type ReplyCallback = (lost: ConnectionLost | null, reply?: Reply) => void

const CRLF = '\r\n'
// Enough for any reply of the per-job scripts in one read (a job's payload); a longer one takes several.
const READ_BUFFER_BYTES = 64 * 1024

// Parses one RESP2 reply from buf at offset; undefined when the buffer does not hold all of it yet.
export function parseReply(buf: Buffer, offset: number): { reply: Reply; end: number } | undefined {
  const lineEnd = buf.indexOf(CRLF, offset)
  if (lineEnd < 0) return undefined
  const type = buf[offset]
  const line = buf.toString('utf8', offset + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case 0x2b: // +
      return { reply: line, end: next }
    case 0x2d: // -
      return { reply: new Error(line), end: next }
    case 0x3a: // :
      return { reply: Number(line), end: next }
    case 0x24: {
      // $
      const length = Number(line)
      if (length < 0) return { reply: null, end: next }
      if (buf.length < next + length + 2) return undefined
      return { reply: buf.toString('utf8', next, next + length), end: next + length + 2 }
    }
    case 0x2a: {
      // *
      const count = Number(line)
      if (count < 0) return { reply: null, end: next }
      const items: Reply[] = []
      let at = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at)
        if (!item) return undefined
        items.push(item.reply)
        at = item.end
      }
      return { reply: items, end: at }
    }
    default:
      throw new Error(`unexpected reply from Redis: ${JSON.stringify(buf.toString('utf8', offset, lineEnd))}`)
  }
}

export interface FastTarget {
  host: string
  port: number
  username?: string
  password?: string
  db?: number
}

// Where a redis:// URL points, or undefined for what the fast path does not speak (TLS, a Unix socket).
export function fastTarget(url: string): FastTarget | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'redis:' || !parsed.hostname) return undefined
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0
  if (!Number.isInteger(db)) return undefined
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname
  return {
    host,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
  }
}

// A connection of its own for the scripts a worker runs per job, with nothing between the worker and the socket:
// each command is built as one string and written in one call, the reply parsed by hand. It does not reconnect:
// once closed, the caller falls back to its ioredis client (which retries forever) and may open a new one later.
export class FastConnection {
  private readonly socket: net.Socket
  private readonly pending: ReplyCallback[] = []
  private readonly loaded = new Set<string>()
  private buffered?: Buffer
  private open = false
  private closed = false

  constructor(target: FastTarget) {
    // Replies are read into one buffer of the connection's own (onread), not through the stream: no Buffer, push
    // and tick per reply. What a read leaves unparsed is copied out before the next read reuses the buffer.
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)
    this.socket = net.connect({
      host: target.host,
      port: target.port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (size: number) => {
          this.receive(readBuffer.subarray(0, size))
          return true
        },
      },
    })
    this.socket.unref()
    this.socket.on('error', () => undefined)
    this.socket.on('close', () => this.lose())
    this.socket.once('connect', () => (this.open = !this.closed))
    const setup: string[][] = []
    if (target.password)
      setup.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password])
    if (target.db) setup.push(['SELECT', String(target.db)])
    // Refused (a wrong password, a database that does not exist): closed, and the caller keeps to ioredis.
    for (const args of setup)
      this.send(args).then(
        (reply) => reply instanceof Error && this.socket.destroy(),
        () => undefined,
      )
  }

  // Connected and not lost: a call now is written at once.
  get usable(): boolean {
    return this.open && !this.closed
  }

  get lost(): boolean {
    return this.closed
  }

  // EVAL the first time on this connection (a Redis that has not seen the script needs no second round trip),
  // EVALSHA after. Redis errors resolve as Error values; a lost connection rejects with ConnectionLost.
  run(script: FastScript, args: readonly string[]): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) =>
      this.call(script, args, (lost, reply) => (lost ? reject(lost) : resolve(reply ?? null))),
    )
  }

  // run, answered through a callback: a caller that sends one script per job saves a promise per call.
  call(script: FastScript, args: readonly string[], done: ReplyCallback): void {
    this.callEncoded(script, args.length, encodeArgs(args), done)
  }

  // call with its arguments already encoded (encodeArgs): a caller whose arguments are mostly the same each time
  // encodes those once.
  callEncoded(script: FastScript, count: number, encoded: string, done: ReplyCallback): void {
    if (this.loaded.has(script.sha)) return this.write(count, encoded, done, script.evalshaHead)
    this.loaded.add(script.sha)
    this.write(count, encoded, done, script.evalHead)
  }

  close(): void {
    this.socket.destroy()
  }

  private send(args: readonly string[]): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) =>
      this.write(args.length, encodeArgs(args), (lost, reply) =>
        lost ? reject(lost) : resolve(reply ?? null),
      ),
    )
  }

  private write(count: number, encoded: string, done: ReplyCallback, head = ''): void {
    if (this.closed) return done(new ConnectionLost())
    this.pending.push(done)
    this.socket.write(head ? `*${count + 2}${CRLF}${head}${encoded}` : `*${count}${CRLF}${encoded}`)
  }

  private receive(chunk: Buffer): void {
    const buf = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk
    let offset = 0
    const replies: Reply[] = []
    // A reply that is not RESP ends the connection, after the replies before it are answered.
    let garbled = false
    while (offset < buf.length) {
      let parsed
      try {
        parsed = parseReply(buf, offset)
      } catch {
        garbled = true
        break
      }
      if (!parsed) break
      offset = parsed.end
      replies.push(parsed.reply)
    }
    this.buffered = offset < buf.length && !garbled ? Buffer.from(buf.subarray(offset)) : undefined
    // Answered once the buffer is settled: a callback may send the next call at once. One that throws stops no
    // other caller's answer; its error is raised after.
    let failure: { error: unknown } | undefined
    for (const reply of replies) {
      try {
        this.pending.shift()?.(null, reply)
      } catch (error) {
        failure ??= { error }
      }
    }
    if (garbled) this.socket.destroy()
    if (failure) throw failure.error
  }

  private lose(): void {
    this.closed = true
    this.open = false
    for (const done of this.pending.splice(0)) done(new ConnectionLost())
  }
}

// Arguments as RESP2 bulk strings, one after another (the count goes in front, with the command).
export function encodeArgs(args: readonly string[]): string {
  let text = ''
  for (const arg of args) text += `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`
  return text
}

// One argument known to be ASCII, as encodeArgs writes it: its length in bytes is its length.
export function encodeAsciiArg(arg: string): string {
  return `$${arg.length}${CRLF}${arg}${CRLF}`
}

// A Lua script with its EVAL and EVALSHA heads encoded once (the script text travels only with the first call).
export class FastScript {
  readonly sha: string
  readonly evalHead: string
  readonly evalshaHead: string

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex')
    this.evalHead = `$4${CRLF}EVAL${CRLF}$${Buffer.byteLength(lua)}${CRLF}${lua}${CRLF}`
    this.evalshaHead = `$7${CRLF}EVALSHA${CRLF}$40${CRLF}${this.sha}${CRLF}`
  }
}
