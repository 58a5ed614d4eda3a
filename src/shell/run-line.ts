import { usageError } from '../errors.js'
import { showToken } from '../state/formation.js'
import { type ShellCommand, commandFlags, commandNames, findCommand } from './commands.js'
import { unknownCommandError } from './help-text.js'
import type { LineEditor } from './line-editor.js'
import { parseWords } from './parse-words.js'
import { splitLine } from './split-line.js'
import type { ShellContext } from './shell-context.js'

export type LineOutcome = 'done' | 'failed' | 'exit'

function checkArgCount(command: ShellCommand, args: readonly string[]): void {
  const usage = command.forms.map((form) => `${command.name} ${form.usage}`.trim()).join(' or ')
  if (command.maxArgs === 0 && args.length)
    throw usageError(
      `${command.name} takes no arguments, not ${showToken(args[0])}: see help ${command.name}`,
    )
  if (command.maxArgs !== undefined && args.length > command.maxArgs)
    throw usageError(`too many arguments for ${usage}: see help ${command.name}`)
  if (command.minArgs !== undefined && args.length < command.minArgs)
    throw usageError(`usage: ${usage}; see help ${command.name}`)
}

// Runs one command given as words; every failure is one line and the shell goes on.
export async function runWords(
  ctx: ShellContext,
  editor: LineEditor,
  words: readonly string[],
): Promise<LineOutcome> {
  const command = findCommand(words[0])
  try {
    if (!command) throw unknownCommandError(words[0], commandNames())
    const parsed = parseWords(command.name, words.slice(1), commandFlags(command, ctx))
    checkArgCount(command, parsed.args)
    const result = await editor.runInterruptible((signal) =>
      command.run(ctx, { ...parsed, signal, print: ctx.print }),
    )
    return result === 'exit' ? 'exit' : 'done'
  } catch (error) {
    ctx.printError(error)
    return 'failed'
  } finally {
    if (command?.showsLog) ctx.cursor.fastForward()
  }
}

// Runs a typed line; a leading `rpd` is dropped, so lines copied from the docs or error messages work.
export async function runLine(ctx: ShellContext, editor: LineEditor, line: string): Promise<LineOutcome> {
  let words: string[]
  try {
    words = splitLine(line)
  } catch (error) {
    ctx.printError(error)
    return 'failed'
  }
  if (words[0] === 'rpd') words.shift()
  return words.length ? runWords(ctx, editor, words) : 'done'
}
