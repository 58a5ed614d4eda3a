import { EXIT_FAILURE, RpdError } from '../../errors.js'
import { type ActionInput, flagTimeoutMs } from './action.js'

// The commands that have an action (all but the interactive shell and help).
export const ACTION_COMMANDS = new Set([
  'schedule',
  'autoscale',
  'complete-groups',
  'config',
  'enqueue',
  'kill',
  'list',
  'logs',
  'metrics',
  'pause',
  'reload',
  'restart',
  'resume',
  'run',
  'scale',
  'start',
  'status',
  'stop',
  'tune',
  'top',
])

// Loads only the action asked for, so `rpd status` never loads what `rpd start` needs.
export async function runAction(id: string, input: ActionInput): Promise<number> {
  // A timeout no timer can hold is refused by its flag's name before anything runs.
  if (input.flags.timeout !== undefined) flagTimeoutMs(input.flags)
  const { default: action } = (await import(`./${id}.js`)) as {
    default: (input: ActionInput) => Promise<number | undefined>
  }
  return (await action(input)) ?? 0
}

// `rpd: message` on one line (the stack too with DEBUG=rpd); returns the exit code the error carries.
export function reportError(error: unknown, hint = ''): number {
  if (process.env.DEBUG?.includes('rpd') && error instanceof Error) process.stderr.write(`${error.stack}\n`)
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`rpd: ${oneLine(message)}${hint}\n`)
  return error instanceof RpdError ? error.exitCode : EXIT_FAILURE
}

// oclif's messages span lines ("Parsing --timeout\n\tExpected an integer ..."): keep them as one line.
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) =>
      line
        .replace(/^\s*(Error:\s*)?/, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((line) => line && !/^See more help with/.test(line))
    .reduce(
      (joined, line) => (joined === '' ? line : `${joined}${joined.endsWith(':') ? ' ' : ': '}${line}`),
      '',
    )
}
