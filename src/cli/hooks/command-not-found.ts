import type { Hook } from '@oclif/core'
import { EXIT_USAGE } from '../../errors.js'
import { suggestNames } from '../../present/suggest-names.js'

// An unknown command is bad usage like any other: one line, exit 2.
const hook: Hook<'command_not_found'> = async function (options) {
  const known = options.config.commands.filter((command) => !command.hidden).map((command) => command.id)
  const near = suggestNames(options.id, known, 1)[0]
  process.stderr.write(
    `rpd: unknown command ${JSON.stringify(options.id)}${near ? ` (did you mean ${near}?)` : ''}: see rpd --help\n`,
  )
  process.exit(EXIT_USAGE)
}

export default hook
