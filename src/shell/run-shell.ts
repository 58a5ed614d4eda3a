import { EXIT_FAILURE, RpdError, errorMessage } from '../errors.js'
import { describeFormation } from '../present/outcomes.js'
import { findMaster } from '../state/master-pid.js'
import { readPool } from '../state/pool-file.js'
import { addProcessTree, readPoolStatus } from '../client/pool-status.js'
import { formatStatus } from '../present/status-text.js'
import { ensureStateDir } from '../state/state-dir.js'
import type { CommandDoc } from './command-docs.js'
import { commandFlags, commandNames, findCommand, saveFormation } from './commands.js'
import { type CompletionSources, completeLine } from './complete-line.js'
import { HISTORY_LINES, appendHistory, loadHistory } from './history.js'
import { type LineEditor, createLineEditor } from './line-editor.js'
import { LogCursor } from './log-cursor.js'
import { runLine, runWords } from './run-line.js'
import type { ShellContext } from './shell-context.js'

export const PROMPT = '>> '
// The shell's exit status when its terminal hangs up: 128 + SIGHUP, as a shell killed by it reports.
export const EXIT_HANGUP = 129

export interface ShellOptions {
  dir: string
  // The rpd commands' descriptions, flags and examples: help and flag parsing come from them.
  docs: Map<string, CommandDoc>
  env: NodeJS.ProcessEnv
  command?: string
  jobs?: string
  // Never stop the pool on exit.
  keep?: boolean
  // Do not start the pool on entry (resque-pool-dynamic's NO_START=1).
  noStart?: boolean
  input: NodeJS.ReadStream
  output: NodeJS.WriteStream
  errorOutput: NodeJS.WriteStream
}

function writeError(out: NodeJS.WriteStream, error: unknown): void {
  if (process.env.DEBUG?.includes('rpd') && error instanceof Error) out.write(`${error.stack}\n`)
  const line =
    errorMessage(error)
      .split('\n')
      .find((l) => l.trim() !== '') ?? String(error)
  out.write(`rpd: ${line.trim()}\n`)
}

function completionSources(ctx: ShellContext): CompletionSources {
  return {
    commands: commandNames(),
    argKind: (name) => findCommand(name)?.complete,
    flags: (name) => {
      const command = findCommand(name)
      return command ? commandFlags(command, ctx).map((flag) => `--${flag.name}`) : []
    },
    groups: () => {
      try {
        return Object.keys(readPool(ctx.paths)?.formation ?? {})
      } catch {
        return []
      }
    },
  }
}

export function formatBanner(dir: string): string {
  return `rpd shell on the pool in ${dir}: type help for the commands, help COMMAND for one; exit or ^D leaves`
}

// Attaches to a running pool, or saves WORKERS as the formation and (unless NO_START) starts the pool.
async function enterShell(ctx: ShellContext, editor: LineEditor, noStart: boolean): Promise<void> {
  const status = readPoolStatus(ctx.dir)
  if (status.running) {
    ctx.print(`attached to the running pool (master ${status.pid}): it keeps running when you exit`)
    if (ctx.env.WORKERS) ctx.print('WORKERS is ignored while the pool runs: config QUEUE=COUNT changes it')
    ctx.print('')
    formatStatus(addProcessTree(status)).forEach((line) => ctx.print(line))
    return
  }
  if (ctx.env.WORKERS) {
    try {
      const formation = await saveFormation(ctx, [ctx.env.WORKERS])
      if (noStart) ctx.print(`saved WORKERS (${describeFormation(formation)}) in ${ctx.paths.pool}`)
    } catch (error) {
      ctx.printError(new RpdError(`WORKERS: ${errorMessage(error)}`))
      return
    }
  }
  if (noStart) return ctx.print('NO_START: the pool is not started; start starts it')
  await runWords(ctx, editor, ['start'])
}

// Stops the pool this shell started (unless told to keep it), shows its shutdown log, says goodbye.
async function leaveShell(ctx: ShellContext, editor: LineEditor): Promise<number> {
  const lookup = findMaster(ctx.paths)
  const mine = ctx.startedMaster
  let code = 0
  if (
    lookup.running &&
    mine &&
    lookup.master.pid === mine.pid &&
    lookup.master.startTime === mine.startTime &&
    !ctx.keep
  ) {
    ctx.print(`stopping the pool this shell started (master ${mine.pid})`)
    if ((await runWords(ctx, editor, ['stop'])) !== 'done') code = EXIT_FAILURE
  } else if (lookup.running) {
    ctx.print(
      `the pool keeps running (master ${lookup.master.pid}): rpd shell attaches to it again, rpd stop stops it`,
    )
  }
  ctx.print('Bye!')
  return code
}

// The interactive console: one pool, resque-pool-dynamic's commands and rpd's, until exit or ^D. Returns the exit code.
export async function runShell(options: ShellOptions): Promise<number> {
  const paths = ensureStateDir(options.dir)
  const ctx: ShellContext = {
    dir: options.dir,
    paths,
    docs: options.docs,
    cursor: new LogCursor(paths),
    env: options.env,
    print: (line) => options.output.write(`${line}\n`),
    printError: (error) => writeError(options.errorOutput, error),
    startDefaults: { command: options.command, jobs: options.jobs },
    keep: Boolean(options.keep),
  }
  const sources = completionSources(ctx)
  const editor = createLineEditor({
    input: options.input,
    output: options.output,
    prompt: PROMPT,
    history: loadHistory(paths.history),
    historySize: HISTORY_LINES,
    completer: (line: string) => completeLine(line, sources),
    onLine: (line) => appendHistory(paths.history, line),
  })
  try {
    // Only a person at a terminal needs the way in; a script piping commands reads just their output.
    if (editor.interactive) ctx.print(formatBanner(ctx.dir))
    await enterShell(ctx, editor, Boolean(options.noStart))
    for (;;) {
      const line = await editor.readLine()
      // Nobody is left to see a shutdown: the pool keeps running (reattach with rpd shell), as with SIGHUP.
      if (line === undefined && editor.hungUp) return EXIT_HANGUP
      if (line === undefined) {
        if (editor.interactive) ctx.print('exit')
        break
      }
      if ((await runLine(ctx, editor, line)) === 'exit') break
    }
    return await leaveShell(ctx, editor)
  } finally {
    editor.close()
    ctx.cursor.close()
  }
}
