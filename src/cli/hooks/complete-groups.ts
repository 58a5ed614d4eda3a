import fs from 'node:fs'
import path from 'node:path'
import type { Hook } from '@oclif/core'
import { type CompletionCommand, extendBashScript, extendZshScript } from '../completion-scripts.js'

// After `rpd autocomplete` has the plugin write its completion scripts, rpd adds group completion to them.
const hook: Hook<'postrun'> = async function ({ Command, config }) {
  if (Command.id !== 'autocomplete' && Command.id !== 'autocomplete:create') return
  const dir = path.join(config.cacheDir, 'autocomplete', 'functions')
  const commands: CompletionCommand[] = config.commands
    .filter((command) => !command.hidden)
    .map((command) => ({
      id: command.id,
      valueFlags: Object.values(command.flags)
        .filter((flag) => flag.type === 'option' && !flag.hidden)
        .flatMap((flag) => [`--${flag.name}`, ...(flag.char ? [`-${flag.char}`] : [])]),
    }))
  extendFile(path.join(dir, 'bash', `${config.bin}.bash`), (text) =>
    extendBashScript(text, config.bin, commands),
  )
  extendFile(path.join(dir, 'zsh', `_${config.bin}`), (text) => extendZshScript(text, config.bin))
}

function extendFile(file: string, extend: (text: string) => string): void {
  if (!fs.existsSync(file)) return
  fs.writeFileSync(file, extend(fs.readFileSync(file, 'utf8')))
}

export default hook
