import readline from 'node:readline'

export interface LineEditorOptions {
  input: NodeJS.ReadStream
  output: NodeJS.WriteStream
  prompt: string
  // Newest first, as readline keeps it; the editor adds each entered line.
  history: string[]
  historySize: number
  completer?: readline.Completer
  onLine?: (line: string) => void
}

export interface LineEditor {
  // A person at a terminal (prompt, history, ^C as a key), not lines from a pipe.
  readonly interactive: boolean
  // The terminal went away (an SSH drop, a closed window) rather than the user ending the input.
  readonly hungUp: boolean
  // The next line typed; undefined at the end of input (^D on an empty line) or when the terminal hangs up.
  readLine(): Promise<string | undefined>
  // Runs a task that ^C interrupts: its signal aborts and the prompt comes back.
  runInterruptible<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T>
  close(): void
}

export function createLineEditor(options: LineEditorOptions): LineEditor {
  return options.input.isTTY && options.output.isTTY ? new TerminalEditor(options) : new StreamEditor(options)
}

// A key typed while a command runs that the next prompt should get (printable text and Enter).
function typedText(text: string | undefined, key: readline.Key | undefined): string {
  if (key?.name === 'return' || key?.name === 'enter') return '\r'
  if (!text || key?.ctrl || key?.meta) return ''
  return [...text].every((ch) => ch >= ' ' && ch !== '\x7f') ? text : ''
}

// The command running now, if any, and the way to interrupt it.
class Interruptions {
  private current?: AbortController

  async run<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController()
    this.current = abort
    try {
      return await task(abort.signal)
    } finally {
      if (this.current === abort) this.current = undefined
    }
  }

  // Returns false when nothing was running.
  interrupt(): boolean {
    this.current?.abort()
    return this.current !== undefined
  }
}

// On a terminal, readline is alive only while the prompt shows; while a command runs the terminal stays raw
// and the editor reads the keys itself, so ^C is a key, not a SIGINT sent to the whole process group
// (which would also kill a `sh -c` wrapping the shell, as in tmux).
class TerminalEditor implements LineEditor {
  readonly interactive = true
  hungUp = false
  private rl?: readline.Interface
  private readonly running = new Interruptions()
  private typeahead = ''
  private readonly onKey = (text: string | undefined, key: readline.Key | undefined) => {
    if (this.rl) return
    if (key?.ctrl && key.name === 'c') return this.interrupt()
    this.typeahead += typedText(text, key)
  }
  // A SIGINT sent with kill(1) interrupts a running command too.
  private readonly onSignal = () => void this.running.interrupt()

  constructor(private readonly options: LineEditorOptions) {
    // Registered before readline's own listener, which hands over the half-typed line as if Enter was pressed.
    options.input.once('end', () => (this.hungUp = true))
    readline.emitKeypressEvents(options.input)
    options.input.on('keypress', this.onKey)
    process.on('SIGINT', this.onSignal)
    this.holdTerminal()
  }

  readLine(): Promise<string | undefined> {
    const { input, output } = this.options
    return new Promise((resolve) => {
      const rl = readline.createInterface({
        input,
        output,
        prompt: this.options.prompt,
        completer: this.options.completer,
        history: this.options.history,
        historySize: this.options.historySize,
        removeHistoryDuplicates: true,
        terminal: true,
      })
      this.rl = rl
      let settled = false
      const settle = (line: string | undefined) => {
        if (settled) return
        settled = true
        this.rl = undefined
        rl.close()
        this.holdTerminal()
        resolve(line)
      }
      rl.on('line', (line) => {
        // A hang-up is no Enter: whatever was half typed (`stop`, say) must not run.
        if (this.hungUp) return settle(undefined)
        if (line.trim()) this.options.onLine?.(line)
        settle(line)
      })
      rl.on('close', () => settle(undefined))
      // ^C at the prompt drops the line and shows a fresh prompt, as a shell does.
      rl.on('SIGINT', () => {
        rl.write(null, { ctrl: true, name: 'e' })
        output.write('^C\n')
        settle('')
      })
      rl.prompt()
      this.feedTypeahead(rl)
    })
  }

  runInterruptible<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.running.run(task)
  }

  close(): void {
    this.options.input.off('keypress', this.onKey)
    process.off('SIGINT', this.onSignal)
    if (!this.hungUp) this.options.input.setRawMode(false)
    this.options.input.pause()
  }

  private interrupt(): void {
    this.typeahead = ''
    this.options.output.write('^C\n')
    this.running.interrupt()
  }

  // Keeps keys flowing to onKey between prompts, raw, so ^C arrives as a key.
  private holdTerminal(): void {
    if (this.hungUp) return
    this.options.input.setRawMode(true)
    this.options.input.resume()
  }

  // Gives the new prompt what was typed while the last command ran, one line at a time.
  private feedTypeahead(rl: readline.Interface): void {
    if (!this.typeahead) return
    const end = this.typeahead.indexOf('\r')
    const chunk = end < 0 ? this.typeahead : this.typeahead.slice(0, end + 1)
    this.typeahead = end < 0 ? '' : this.typeahead.slice(end + 1)
    rl.write(chunk)
  }
}

// Lines from a pipe or file (`rpd shell < commands`): no prompt, no history; SIGINT interrupts a running
// command, and ends the input when none runs.
class StreamEditor implements LineEditor {
  readonly interactive = false
  readonly hungUp = false
  private readonly rl: readline.Interface
  private readonly lines: AsyncIterator<string>
  private readonly running = new Interruptions()
  private endInput?: () => void
  private readonly onSignal = () => this.running.interrupt() || this.endInput?.()

  constructor(options: LineEditorOptions) {
    this.rl = readline.createInterface({ input: options.input, terminal: false, crlfDelay: Infinity })
    this.lines = this.rl[Symbol.asyncIterator]()
    process.on('SIGINT', this.onSignal)
  }

  async readLine(): Promise<string | undefined> {
    const ended = new Promise<undefined>((resolve) => (this.endInput = () => resolve(undefined)))
    const next = await Promise.race([this.lines.next(), ended])
    this.endInput = undefined
    return next === undefined || next.done ? undefined : next.value
  }

  runInterruptible<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.running.run(task)
  }

  close(): void {
    process.off('SIGINT', this.onSignal)
    this.rl.close()
  }
}
