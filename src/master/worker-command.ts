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

// How a worker is started. The pid must be the command's own: bash -c execs the last simple command
// (dash's sh -c does not), and setpriv --pdeathsig has the kernel send the stop signal if the master dies.
export function workerArgv(pool: PoolConfig): WorkerArgv {
  const deathSignal = pool.stopSignal.replace(/^SIG/, '')
  const guard = setpriv ? [setpriv, '--pdeathsig', deathSignal, '--'] : []
  const target = pool.command
    ? bash
      ? [bash, '-c', pool.command]
      : ['/bin/sh', '-c', `exec ${pool.command}`]
    : [process.execPath, WORKER_ENTRY, ' '.repeat(WORKER_TITLE_ROOM)]
  const argv = [...guard, ...target]
  return { file: argv[0], args: argv.slice(1), ipc: !pool.command }
}
