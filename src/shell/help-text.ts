import { usageError } from '../errors.js'
import { suggestNames } from '../present/suggest-names.js'
import { showToken } from '../state/formation.js'
import { type CommandDoc, type FlagDoc, fillTemplate } from './command-docs.js'
import type { CommandForm, ShellCommand } from './commands.js'

type Docs = Map<string, CommandDoc>

// The rpd command a form maps onto: `logs -f` is described by `logs`.
function docOf(form: CommandForm, docs: Docs): CommandDoc | undefined {
  return form.rpd ? docs.get(form.rpd.split(' ')[0]) : undefined
}

function usageLine(command: ShellCommand, form: CommandForm): string {
  return form.usage ? `${command.name} ${form.usage}` : command.name
}

// One line per form: usage, what it does, and the rpd command it is when the name differs.
function formLines(command: ShellCommand, docs: Docs): [string, string][] {
  return command.forms.map((form) => {
    const what = form.about ?? docOf(form, docs)?.summary ?? ''
    const same = form.rpd === command.name
    return [usageLine(command, form), form.rpd && !same ? `${what} [rpd ${form.rpd}]` : what]
  })
}

function columns(rows: [string, string][], indent = '  '): string[] {
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`.trimEnd())
}

// `help`: every command in one list, like resque-pool-dynamic's, then rpd's own.
export function formatCommandList(commands: readonly ShellCommand[], docs: Docs): string[] {
  const rows = (rpdOnly: boolean) =>
    commands
      .filter((command) => Boolean(command.rpdOnly) === rpdOnly)
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((command) => [
        ...formLines(command, docs),
        ...(command.aliases ?? []).map((alias): [string, string] => [alias, `same as ${command.name}`]),
      ])
  return [
    'Known commands:',
    ...columns(rows(false)),
    "rpd's commands work here too:",
    ...columns(rows(true)),
    'For details, type: help COMMAND',
  ]
}

// An rpd example as it is typed here: `rpd scale foo=2` is `config foo=2` when config means scale, and
// anything that needs the system shell (pipes, variables) keeps its `$ rpd` form.
function translateExample(example: string, command: ShellCommand, form: CommandForm, id: string): string {
  const text = fillTemplate(example)
  const match = /^rpd (\S+)(.*)$/.exec(text)
  if (!match || match[1] !== id || /[|&;<>`]/.test(match[2])) return `$ ${text}`
  return `${form.rpd === id ? command.name : id}${match[2]}`
}

function flagLines(flags: readonly FlagDoc[]): [string, string][] {
  return flags.map((flag) => {
    const value = flag.type === 'option' ? ` ${flag.helpValue ?? '<value>'}` : ''
    const name = `${flag.char ? `-${flag.char}, ` : ''}--${flag.name}${value}`
    const fallback =
      flag.default !== undefined && flag.type === 'option' ? ` (default: ${String(flag.default)})` : ''
    return [name, `${flag.description ?? ''}${fallback}`]
  })
}

// `help COMMAND`: its forms, then the summary, description, options and examples of the rpd commands it maps onto.
export function formatCommandHelp(command: ShellCommand, flags: readonly FlagDoc[], docs: Docs): string[] {
  const forms = command.forms.map((form): [string, string] => {
    const mapped = form.rpd && form.rpd !== command.name ? `[rpd ${form.rpd}]` : ''
    return [usageLine(command, form), [form.about, mapped].filter(Boolean).join(' ')]
  })
  const lines = ['Usage:', ...columns(forms)]
  if (command.aliases?.length) lines.push(`  (also: ${command.aliases.join(', ')})`)
  const examples: string[] = []
  const shown = new Set<string>()
  for (const form of command.forms) {
    const doc = docOf(form, docs)
    if (!doc || shown.has(doc.id)) continue
    shown.add(doc.id)
    lines.push('', `rpd ${form.rpd}: ${doc.summary ?? ''}`.trimEnd())
    if (doc.description) lines.push(...doc.description.split('\n').map((line) => `  ${line}`))
    const args = doc.args.filter((arg) => arg.description && form.usage.includes(arg.name.toUpperCase()))
    if (args.length)
      lines.push(...columns(args.map((arg) => [arg.name.toUpperCase(), arg.description ?? ''])))
    examples.push(...doc.examples.map((example) => translateExample(example, command, form, doc.id)))
  }
  if (flags.length) lines.push('', 'Options:', ...columns(flagLines(flags)))
  if (examples.length) lines.push('', 'Examples:', ...[...new Set(examples)].map((example) => `  ${example}`))
  return lines
}

export function unknownCommandError(name: string, names: readonly string[]) {
  const near = suggestNames(name, names)
  const hint = near.length ? `did you mean ${near.join(', ')}? ` : ''
  return usageError(`unknown command ${showToken(name)}: ${hint}type help for the list`)
}
