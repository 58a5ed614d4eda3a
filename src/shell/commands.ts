import fs from 'node:fs'
import { RpdError, usageError } from '../errors.js'
import { type Formation, parseFormation, sameFormation } from '../state/formation.js'
import { type LineMatcher, compileUntil, showLogs } from '../client/logs.js'
import { findMaster } from '../state/master-pid.js'
import { updatePool } from '../state/pool-lock.js'
import {
  drawProcessTree,
  formatStatus,
  readFullStatus,
  readPoolStatus,
  statusJson,
} from '../client/pool-status.js'
import type { Print } from '../client/pool-wait.js'
import { describeFormation, reloadPool, restartPool, scalePool } from '../client/apply-pool.js'
import { showConfig } from '../client/config.js'
import { signalMaster } from '../client/signal-master.js'
import { shortSignal } from '../proc/signals.js'
import { startPool } from '../client/start-pool.js'
import { stopPool } from '../client/stop-pool.js'
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
  // Listed with rpd's commands rather than the seed's.
  rpdOnly?: boolean
  minArgs?: number
  maxArgs?: number
  complete?: ArgKind
  // It prints log lines itself, so the log cursor moves past them.
  showsLog?: boolean
  run(ctx: ShellContext, call: Call): Promise<'exit' | void>
}

const NO_ARGS = { maxArgs: 0 }

function timeoutMs(call: Call): number | undefined {
  const seconds = readWholeNumber(call.flags.timeout, '--timeout', 1)
  return seconds === undefined ? undefined : seconds * 1000
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
    startPool(
      ctx.dir,
      {
        specs: call.args,
        command: readString(call.flags.command) ?? ctx.startDefaults.command,
        jobs: readString(call.flags.jobs) ?? ctx.startDefaults.jobs,
        redis: readString(call.flags.redis),
        namespace: readString(call.flags.namespace),
        stopSignal: readString(call.flags['stop-signal']),
        app: readString(call.flags.app),
        wait,
        timeoutMs: timeoutMs(call),
        // The formation is in pool.yml (the shell saved WORKERS there on entry), so later changes win.
        env: { ...ctx.env, WORKERS: '' },
      },
      quiet ? () => undefined : print,
    ).then((result) => {
      ctx.startedMaster = result.master
      return result
    }),
  )
  if (!started) return
  if (!wait) return call.print(`started master ${started.master.pid}`)
  call.print('')
  formatStatus(await readFullStatus(ctx.dir)).forEach((line) => call.print(line))
}

async function scaleCommand(ctx: ShellContext, call: Call): Promise<void> {
  const outcome = await watch(call, (print) =>
    scalePool(ctx.dir, call.args, { wait: !call.flags['no-wait'], timeoutMs: timeoutMs(call) }, print),
  )
  if (!outcome) return
  const formation = describeFormation(outcome.pool.formation)
  if (outcome.kind === 'unchanged') call.print(`no change: the formation is already ${formation}`)
  else if (outcome.kind === 'saved') call.print(`not running: saved ${formation} for the next start`)
  else
    call.print(
      `${outcome.kind === 'applied' ? 'applied' : 'sent'} generation ${outcome.pool.generation}: ${formation}`,
    )
}

// Writes a formation into pool.yml as WORKERS would set it, without telling the master (the seed's write_config).
export async function saveFormation(ctx: ShellContext, specs: readonly string[]): Promise<Formation> {
  const formation = parseFormation(specs)
  const { after } = await updatePool(ctx.paths, (pool) =>
    sameFormation(pool.formation, formation) ? undefined : { ...pool, formation },
  )
  return after.formation
}

function signalCommand(ctx: ShellContext, call: Call, signal: string, done: (pid: number) => string): void {
  const { master } = signalMaster(ctx.dir, signal)
  call.print(done(master.pid))
}

async function killCommand(ctx: ShellContext, call: Call): Promise<void> {
  const { master, signal } = signalMaster(ctx.dir, call.args[0])
  call.print(`sent ${shortSignal(signal)} to master ${master.pid}`)
}

function followEnded(call: Call, end: FollowEnd): void {
  if (end === 'master exited') call.print('(the master exited)')
}

// A regular expression as typed: several words are one pattern, and the seed's /.../ form is accepted.
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

// The commands, with the seed's names first; rpd's own follow, so one vocabulary is enough.
export const SHELL_COMMANDS: ShellCommand[] = [
  {
    name: 'status',
    forms: [{ usage: '', rpd: 'status' }],
    flagsFrom: ['status'],
    ...NO_ARGS,
    async run(ctx, call) {
      const status = await readFullStatus(ctx.dir)
      if (call.flags.json)
        JSON.stringify(statusJson(status), null, 2)
          .split('\n')
          .forEach((line) => call.print(line))
      else formatStatus(status).forEach((line) => call.print(line))
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
      showConfig(ctx.dir, { paths: Boolean(call.flags.path) }).forEach((line) => call.print(line))
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
      const outcome = await watch(call, (print) =>
        reloadPool(ctx.dir, { wait: !call.flags['no-wait'], timeoutMs: timeoutMs(call) }, print),
      )
      if (outcome)
        call.print(
          `reloaded generation ${outcome.pool.generation}: ${describeFormation(outcome.pool.formation)}`,
        )
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
      const outcome = await stopPool(
        ctx.dir,
        { timeoutMs: timeoutMs(call), force: Boolean(call.flags.force), signal: call.signal },
        call.print,
      )
      call.print(outcome)
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
      signalCommand(
        ctx,
        call,
        'QUIT',
        (pid) => `stopping: sent QUIT to master ${pid}; status shows when it is gone`,
      )
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
      drawProcessTree(status.pid, status.workers).forEach((line) => call.print(line))
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
      const until = readString(call.flags.until)
      const timeout = timeoutMs(call)
      const matched = await showLogs(
        ctx.dir,
        {
          lines: readWholeNumber(call.flags.lines, '--lines'),
          follow: Boolean(call.flags.follow),
          until,
          timeoutMs: timeout,
          signal: call.signal,
        },
        call.print,
      )
      if (!matched && !call.signal.aborted)
        throw new RpdError(`no line matched ${JSON.stringify(until)} within ${(timeout ?? 0) / 1000} s`)
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
      const outcome = await watch(call, (print) =>
        restartPool(ctx.dir, call.args, { wait: !call.flags['no-wait'], timeoutMs: timeoutMs(call) }, print),
      )
      if (outcome) call.print(outcome.kind === 'applied' ? 'restarted' : 'restart requested')
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
      signalCommand(ctx, call, 'USR2', (pid) => `paused (sent USR2 through master ${pid}); resume goes on`)
    },
  },
  {
    name: 'resume',
    rpdOnly: true,
    forms: [{ usage: '', rpd: 'resume' }],
    ...NO_ARGS,
    async run(ctx, call) {
      signalCommand(ctx, call, 'CONT', (pid) => `resumed (sent CONT through master ${pid})`)
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
