import fs from 'node:fs'
import { usageError } from '../errors.js'
import { type Formation, parseFormation, sameFormation } from '../state/formation.js'
import { type LineMatcher, compileUntil, noMatchError, showLogs } from '../client/logs.js'
import { findMaster } from '../state/master-pid.js'
import { updatePool } from '../state/pool-lock.js'
import { readPoolStatus, readProcessTree, readStatusWithTree } from '../client/pool-status.js'
import type { Print } from '../client/pool-wait.js'
import { Pool } from '../client/pool.js'
import { formatConfig } from '../present/config-text.js'
import {
  describeFormation,
  formatKilled,
  formatPaused,
  formatReloaded,
  formatRestarted,
  formatResumed,
  formatScaled,
  formatStarted,
  formatStatePaths,
  formatStopped,
} from '../present/outcomes.js'
import { drawProcessTree, formatStatus, formatStatusJson } from '../present/status-text.js'
import type { FlagDoc } from './command-docs.js'
import type { ArgKind } from './complete-line.js'
import { formatCommandHelp, formatCommandList, unknownCommandError } from './help-text.js'
import type { FollowEnd } from './log-cursor.js'
import { type ParsedWords, readString, readWholeNumber } from './parse-words.js'
import type { ShellContext } from './shell-context.js'

// One way to call a command: its arguments, and either the rpd command it maps onto (whose summary,
// description and examples help shows) or a one-line description of its own.
export interface CommandForm {
  usage: string
  rpd?: string
  about?: string
}

export interface Call extends ParsedWords {
  signal: AbortSignal
  print: Print
}

export interface ShellCommand {
  name: string
  aliases?: string[]
  forms: CommandForm[]
  // rpd commands whose flags this one takes, besides its own.
  flagsFrom?: string[]
  ownFlags?: FlagDoc[]
  // Listed with rpd's commands rather than resque-pool-dynamic's.
  rpdOnly?: boolean
  minArgs?: number
  maxArgs?: number
  complete?: ArgKind
  // It prints log lines itself, so the log cursor moves past them.
  showsLog?: boolean
  run(ctx: ShellContext, call: Call): Promise<'exit' | void>
}

const NO_ARGS = { maxArgs: 0 }

function timeoutSeconds(call: Call): number | undefined {
  return readWholeNumber(call.flags.timeout, '--timeout', 1)
}

function printLines(call: Pick<Call, 'print'>, lines: readonly string[]): void {
  lines.forEach((line) => call.print(line))
}

// The pool this shell is bound to, printing progress where told: the same class the CLI's commands call.
function poolOf(ctx: ShellContext, print: Print): Pool {
  return new Pool({ stateDir: ctx.dir, onLine: print })
}

// Waits for a library call that ^C cannot cancel (start, scale, reload, restart): ^C stops the watching
// and returns to the prompt; the master carries on.
async function watch<T>(call: Call, work: (print: Print) => Promise<T>): Promise<T | undefined> {
  let watching = true
  const pending = work((line) => watching && call.print(line))
  pending.catch(() => undefined)
  const interrupted = new Promise<undefined>((resolve) =>
    call.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
  )
  const result = await Promise.race([pending, interrupted])
  if (call.signal.aborted) {
    watching = false
    call.print('stopped watching; the master carries on: status shows how far it got')
    return undefined
  }
  return result
}

async function startCommand(ctx: ShellContext, call: Call, quiet: boolean): Promise<void> {
  const wait = !quiet && !call.flags['no-wait']
  const started = await watch(call, (print) =>
    poolOf(ctx, quiet ? () => undefined : print)
      .start({
        formation: call.args,
        command: readString(call.flags.command) ?? ctx.startDefaults.command,
        jobs: readString(call.flags.jobs) ?? ctx.startDefaults.jobs,
        redis: readString(call.flags.redis),
        namespace: readString(call.flags.namespace),
        stopSignal: readString(call.flags['stop-signal']),
        app: readString(call.flags.app),
        wait,
        timeout: timeoutSeconds(call),
        // The formation is in pool.yml (the shell saved WORKERS there on entry), so later changes win.
        env: { ...ctx.env, WORKERS: '' },
      })
      .then((result) => {
        // Remembered by pid and start time, so exit stops this master and never a later one.
        const lookup = findMaster(ctx.paths)
        if (lookup.running && lookup.master.pid === result.pid) ctx.startedMaster = lookup.master
        return result
      }),
  )
  if (!started) return
  printLines(call, formatStarted(started, wait ? formatStatus(await readStatusWithTree(ctx.dir)) : undefined))
}

async function scaleCommand(ctx: ShellContext, call: Call): Promise<void> {
  const result = await watch(call, (print) =>
    poolOf(ctx, print).scale(call.args, { wait: !call.flags['no-wait'], timeout: timeoutSeconds(call) }),
  )
  if (result) printLines(call, formatScaled(result))
}

// Writes a formation into pool.yml as WORKERS would set it, without telling the master (resque-pool-dynamic's write_config).
export async function saveFormation(ctx: ShellContext, specs: readonly string[]): Promise<Formation> {
  const formation = parseFormation(specs)
  const { after } = await updatePool(ctx.paths, (pool) =>
    sameFormation(pool.formation, formation) ? undefined : { ...pool, formation },
  )
  return after.formation
}

async function killCommand(ctx: ShellContext, call: Call): Promise<void> {
  printLines(call, formatKilled(await poolOf(ctx, call.print).kill(call.args[0])))
}

function followEnded(call: Call, end: FollowEnd): void {
  if (end === 'master exited') call.print('(the master exited)')
}

// A regular expression as typed: several words are one pattern, and resque-pool-dynamic's /.../ form is accepted.
function readPattern(args: readonly string[]): LineMatcher {
  const text = args.join(' ')
  const slashed = /^\/(.*)\/$/.exec(text)
  return compileUntil(slashed ? slashed[1] : text)
}

const keepFlag: FlagDoc = {
  name: 'keep',
  type: 'boolean',
  description: 'leave the pool running even if this shell started it',
}

// The commands, with resque-pool-dynamic's names first; rpd's own follow, so one vocabulary is enough.
export const SHELL_COMMANDS: ShellCommand[] = [
  {
    name: 'status',
    forms: [{ usage: '', rpd: 'status' }],
    flagsFrom: ['status'],
    ...NO_ARGS,
    async run(ctx, call) {
      if (call.flags.json) printLines(call, formatStatusJson(await poolOf(ctx, call.print).status()))
      else printLines(call, formatStatus(await readStatusWithTree(ctx.dir)))
    },
  },
  {
    name: 'config',
    forms: [
      { usage: '', rpd: 'config' },
      { usage: 'QUEUE=COUNT ...', rpd: 'scale' },
    ],
    flagsFrom: ['config', 'scale'],
    complete: 'group-counts',
    showsLog: true,
    async run(ctx, call) {
      if (call.args.length) return scaleCommand(ctx, call)
      if (call.flags.path) return printLines(call, formatStatePaths(ctx.paths))
      printLines(call, formatConfig(await poolOf(ctx, call.print).config()))
    },
  },
  {
    name: 'config_path',
    forms: [
      {
        usage: '',
        about: 'Path of pool.yml, the file that holds the formation (config --path lists every state file).',
      },
    ],
    ...NO_ARGS,
    async run(ctx, call) {
      call.print(ctx.paths.pool)
    },
  },
  {
    name: 'write_config',
    forms: [
      {
        usage: '[QUEUE=COUNT ...]',
        about:
          'Save WORKERS (or the counts given) as the formation in pool.yml without telling the master; reload applies it.',
      },
    ],
    complete: 'group-counts',
    async run(ctx, call) {
      const specs = call.args.length ? call.args : ctx.env.WORKERS ? [ctx.env.WORKERS] : []
      if (!specs.length)
        throw usageError('nothing to write: give QUEUE=COUNT (e.g. write_config foo=2 bar=1) or set WORKERS')
      const formation = await saveFormation(ctx, specs)
      const next = findMaster(ctx.paths).running ? 'reload applies it' : 'start uses it'
      call.print(`wrote ${describeFormation(formation)} to ${ctx.paths.pool}: ${next}`)
    },
  },
  {
    name: 'reload',
    forms: [{ usage: '', rpd: 'reload' }],
    flagsFrom: ['reload'],
    ...NO_ARGS,
    showsLog: true,
    async run(ctx, call) {
      const result = await watch(call, (print) =>
        poolOf(ctx, print).reload({ wait: !call.flags['no-wait'], timeout: timeoutSeconds(call) }),
      )
      if (result) printLines(call, formatReloaded(result))
    },
  },
  {
    name: 'start',
    forms: [{ usage: '[QUEUE=COUNT ...]', rpd: 'start' }],
    flagsFrom: ['start'],
    complete: 'group-counts',
    showsLog: true,
    run: (ctx, call) => startCommand(ctx, call, false),
  },
  {
    name: 'start!',
    forms: [
      {
        usage: '[QUEUE=COUNT ...]',
        rpd: 'start --no-wait',
        about:
          'Start the pool in the background: back at the prompt once the master is up, without showing its log.',
      },
    ],
    flagsFrom: ['start'],
    complete: 'group-counts',
    run: (ctx, call) => startCommand(ctx, call, true),
  },
  {
    name: 'stop',
    forms: [{ usage: '', rpd: 'stop' }],
    flagsFrom: ['stop'],
    ...NO_ARGS,
    showsLog: true,
    async run(ctx, call) {
      const outcome = await poolOf(ctx, call.print).stop({
        timeout: timeoutSeconds(call),
        force: Boolean(call.flags.force),
        signal: call.signal,
      })
      printLines(call, formatStopped(outcome))
    },
  },
  {
    name: 'stop!',
    forms: [
      {
        usage: '',
        rpd: 'kill QUIT',
        about: 'Tell the master to stop gracefully and return at once, without the shutdown log.',
      },
    ],
    ...NO_ARGS,
    async run(ctx, call) {
      const { pid } = await poolOf(ctx, call.print).kill('QUIT')
      call.print(`stopping: sent QUIT to master ${pid}; status shows when it is gone`)
    },
  },
  {
    name: 'kill!',
    forms: [{ usage: 'SIGNAL', rpd: 'kill' }],
    minArgs: 1,
    maxArgs: 1,
    complete: 'signals',
    run: killCommand,
  },
  {
    name: 'pid',
    forms: [{ usage: '', about: 'PID of the master, or "not running".' }],
    ...NO_ARGS,
    async run(ctx, call) {
      call.print(String(readPoolStatus(ctx.dir).pid ?? 'not running'))
    },
  },
  {
    name: 'pstree',
    forms: [{ usage: '', about: "The master's process tree, with each worker's title, as status draws it." }],
    ...NO_ARGS,
    async run(ctx, call) {
      const status = readPoolStatus(ctx.dir)
      if (!status.running || status.pid === null) return call.print('not running')
      printLines(call, drawProcessTree(readProcessTree(status.pid), status.workers))
    },
  },
  {
    name: 'has_log?',
    forms: [{ usage: '', about: 'true when the pool has a log file (master.log), else false.' }],
    ...NO_ARGS,
    async run(ctx, call) {
      call.print(String(fs.existsSync(ctx.paths.log)))
    },
  },
  {
    name: 'log_path',
    forms: [{ usage: '', about: "Path of the pool's log file, master.log." }],
    ...NO_ARGS,
    async run(ctx, call) {
      call.print(ctx.paths.log)
    },
  },
  {
    name: 'log.tail',
    forms: [
      {
        usage: '[N]',
        rpd: 'logs -f',
        about:
          'Show the last N lines of the log (without N: what no log command has shown yet), then follow it until ^C.',
      },
    ],
    maxArgs: 1,
    async run(ctx, call) {
      const lines = readWholeNumber(call.args[0], 'the number of lines')
      if (lines === undefined) ctx.cursor.printToEnd(call.print)
      else ctx.cursor.printLast(lines, call.print)
      followEnded(call, await ctx.cursor.follow(call.print, { signal: call.signal }))
    },
  },
  {
    name: 'log.tail_until',
    forms: [
      {
        usage: 'REGEX',
        rpd: 'logs --until REGEX',
        about:
          'Show the log from where the last log command stopped, following it until a line matches REGEX (or ^C).',
      },
    ],
    minArgs: 1,
    async run(ctx, call) {
      const until = readPattern(call.args)
      followEnded(call, await ctx.cursor.follow(call.print, { signal: call.signal, until }))
    },
  },
  {
    name: 'log.tail_to_eof',
    forms: [{ usage: '', about: 'Show the log from where the last log command stopped to its current end.' }],
    ...NO_ARGS,
    async run(ctx, call) {
      ctx.cursor.printToEnd(call.print)
    },
  },
  {
    name: 'log.ff',
    forms: [{ usage: '', about: 'Skip to the end of the log: the next log.tail shows only new lines.' }],
    ...NO_ARGS,
    async run(ctx) {
      ctx.cursor.fastForward()
    },
  },
  {
    name: 'log.rew',
    aliases: ['log.rewind'],
    forms: [
      { usage: '', about: 'Go back to the start of the log: the next log.tail_to_eof shows all of it.' },
    ],
    ...NO_ARGS,
    async run(ctx) {
      ctx.cursor.rewind()
    },
  },
  {
    name: 'help',
    forms: [{ usage: '[COMMAND]', about: 'List the commands, or show how to use one.' }],
    maxArgs: 1,
    complete: 'commands',
    async run(ctx, call) {
      if (!call.args.length)
        return formatCommandList(SHELL_COMMANDS, ctx.docs).forEach((line) => call.print(line))
      const command = findCommand(call.args[0])
      if (!command) throw unknownCommandError(call.args[0], commandNames())
      formatCommandHelp(command, commandFlags(command, ctx), ctx.docs).forEach((line) => call.print(line))
    },
  },
  {
    name: 'exit',
    aliases: ['quit'],
    forms: [
      {
        usage: '[--keep]',
        about: 'Leave the shell (or ^D); a pool this shell started is stopped gracefully first.',
      },
    ],
    ownFlags: [keepFlag],
    ...NO_ARGS,
    async run(ctx, call) {
      if (call.flags.keep) ctx.keep = true
      return 'exit'
    },
  },
  {
    name: 'scale',
    rpdOnly: true,
    forms: [{ usage: 'QUEUE=COUNT ...', rpd: 'scale' }],
    flagsFrom: ['scale'],
    minArgs: 1,
    complete: 'group-counts',
    showsLog: true,
    run: scaleCommand,
  },
  {
    name: 'logs',
    rpdOnly: true,
    forms: [{ usage: '[-n N] [-f] [--until REGEX]', rpd: 'logs' }],
    flagsFrom: ['logs'],
    ...NO_ARGS,
    showsLog: true,
    async run(ctx, call) {
      // As the CLI's logs does (the same client function), but ^C here is not a failure: it is back to the prompt.
      const until = readString(call.flags.until)
      const timeout = timeoutSeconds(call)
      const matched = await showLogs(
        ctx.dir,
        {
          lines: readWholeNumber(call.flags.lines, '--lines'),
          follow: Boolean(call.flags.follow),
          until,
          timeoutMs: timeout === undefined ? undefined : timeout * 1000,
          signal: call.signal,
        },
        call.print,
      )
      if (!matched && !call.signal.aborted) throw noMatchError(until, timeout)
    },
  },
  {
    name: 'restart',
    rpdOnly: true,
    forms: [{ usage: '[GROUP ...]', rpd: 'restart' }],
    flagsFrom: ['restart'],
    complete: 'groups',
    showsLog: true,
    async run(ctx, call) {
      const result = await watch(call, (print) =>
        poolOf(ctx, print).restart(call.args, {
          wait: !call.flags['no-wait'],
          timeout: timeoutSeconds(call),
        }),
      )
      if (result) printLines(call, formatRestarted(result))
    },
  },
  {
    name: 'kill',
    rpdOnly: true,
    forms: [{ usage: 'SIGNAL', rpd: 'kill' }],
    minArgs: 1,
    maxArgs: 1,
    complete: 'signals',
    run: killCommand,
  },
  {
    name: 'pause',
    rpdOnly: true,
    forms: [{ usage: '', rpd: 'pause' }],
    ...NO_ARGS,
    async run(ctx, call) {
      printLines(call, formatPaused(await poolOf(ctx, call.print).pause()))
    },
  },
  {
    name: 'resume',
    rpdOnly: true,
    forms: [{ usage: '', rpd: 'resume' }],
    ...NO_ARGS,
    async run(ctx, call) {
      printLines(call, formatResumed(await poolOf(ctx, call.print).resume()))
    },
  },
]

export function findCommand(name: string): ShellCommand | undefined {
  return SHELL_COMMANDS.find((command) => command.name === name || command.aliases?.includes(name))
}

export function commandNames(): string[] {
  return SHELL_COMMANDS.flatMap((command) => [command.name, ...(command.aliases ?? [])])
}

// The flags a command takes: its own and those of the rpd commands it maps onto (the shell owns --state-dir).
export function commandFlags(command: ShellCommand, ctx: Pick<ShellContext, 'docs'>): FlagDoc[] {
  const flags = [...(command.ownFlags ?? [])]
  for (const id of command.flagsFrom ?? [])
    for (const flag of ctx.docs.get(id)?.flags ?? [])
      if (!flags.some((f) => f.name === flag.name)) flags.push(flag)
  return flags
}
