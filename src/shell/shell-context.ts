import type { Print } from '../client/pool-wait.js'
import type { ProcessIdentity } from '../proc/process-identity.js'
import type { StatePaths } from '../state/state-dir.js'
import type { CommandDoc } from './command-docs.js'
import type { LogCursor } from './log-cursor.js'

// What every shell command works with: one pool (its state directory) and where to print.
export interface ShellContext {
  dir: string
  paths: StatePaths
  docs: Map<string, CommandDoc>
  cursor: LogCursor
  env: NodeJS.ProcessEnv
  print: Print
  printError: (error: unknown) => void
  // The shell's --command / --jobs: how `start` runs workers when it is not told.
  startDefaults: { command?: string; jobs?: string }
  // The master this shell started: stopped on exit unless keep.
  startedMaster?: ProcessIdentity
  keep: boolean
}
