import fs from 'node:fs'
import { WORKER_ENTRY } from '../paths.js'
import type { PoolConfig } from '../state/pool-file.js'

export interface WorkerArgv {
  file: string
  args: string[]
  // Built-in workers talk to the master over IPC.
  ipc: boolean
}

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv']
const BASH_PATHS = ['/bin/bash', '/usr/bin/bash']

// The first of paths that is a program this process may run.
function firstExisting(paths: readonly string[]): string | undefined {
  return paths.find((p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK)
      return fs.statSync(p).isFile()
    } catch {
      return false
    }
  })
}

const setpriv = firstExisting(SETPRIV_PATHS)

// Whether workers can be tied to the master's life (the kernel's death signal through setpriv).
export function hasSetpriv(): boolean {
  return setpriv !== undefined
}
const bash = firstExisting(BASH_PATHS)

// Node writes process.title over the original arguments: room for `resque-2.7.0: Processing QUEUE since EPOCH [Class]`.
const WORKER_TITLE_ROOM = 1024

// Words bash runs as a program of that name without a shell (builtins and keywords, and the words that start
// a compound command, mean something else as a first word).
const SHELL_WORDS = new Set(
  (
    '. : [ [[ ]] { } ! alias bg bind break builtin caller case cd command compgen complete compopt continue ' +
    'coproc declare dirs disown do done echo elif else enable esac eval exec exit export false fc fg fi for ' +
    'function getopts hash help history if in jobs kill let local logout mapfile popd printf pushd pwd read ' +
    'readarray readonly return select set shift shopt source suspend test then time times trap true type ' +
    'typeset ulimit umask unalias unset until wait while'
  ).split(' '),
)
// One word of a command that has no shell syntax: characters bash takes literally, single-quoted text, or
// double-quoted text without $, `, \ or !, run together.
const PLAIN_WORD = /^(?:[A-Za-z0-9_./:=@%+,-]+|'[^']*'|"[^"$`\\!]*")+/
const QUOTED_PART = /[A-Za-z0-9_./:=@%+,-]+|'([^']*)'|"([^"]*)"/g

// The words of a command that bash would run as one program with these arguments, without expanding,
// redirecting or assigning anything; undefined when the command needs a shell (or might).
export function plainCommandWords(command: string): string[] | undefined {
  const words: string[] = []
  let rest = command.replace(/^[ \t]+/, '')
  while (rest !== '') {
    const word = PLAIN_WORD.exec(rest)?.[0]
    if (word === undefined) return undefined
    rest = rest.slice(word.length)
    if (rest !== '' && !/^[ \t]/.test(rest)) return undefined
    rest = rest.replace(/^[ \t]+/, '')
    words.push(
      word.replace(QUOTED_PART, (part, single?: string, double?: string) => single ?? double ?? part),
    )
  }
  const first = words[0]
  if (first === undefined || first === '' || SHELL_WORDS.has(first)) return undefined
  // `QUEUE=foo rake ...` assigns before the program: the shell's to do (a quoted one is rare enough to leave too).
  if (first.includes('=')) return undefined
  return words
}

// How a worker is started. The pid must be the command's own: bash -c execs the last simple command
// (dash's sh -c does not), and setpriv --pdeathsig has the kernel send the stop signal if the master dies.
// A command without shell syntax is exec'd by setpriv itself, one exec fewer per worker; setpriv exits
// 127 when the program is not found and 126 when it cannot be run, as bash does.
export function workerArgv(pool: PoolConfig): WorkerArgv {
  const deathSignal = pool.stopSignal.replace(/^SIG/, '')
  const guard = setpriv ? [setpriv, '--pdeathsig', deathSignal, '--'] : []
  const plain = setpriv && pool.command ? plainCommandWords(pool.command) : undefined
  const target = pool.command
    ? plain
      ? plain
      : bash
        ? [bash, '-c', pool.command]
        : ['/bin/sh', '-c', `exec ${pool.command}`]
    : [process.execPath, WORKER_ENTRY, ' '.repeat(WORKER_TITLE_ROOM)]
  const argv = [...guard, ...target]
  return { file: argv[0], args: argv.slice(1), ipc: !pool.command }
}
