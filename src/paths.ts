// Where rpd's own files are at run time, relative to this file: the one place that knows the layout of dist/.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// Defined (as the directory it lives in) only in the master's bundle (scripts/build-master.mjs), whose copy
// of this file sits in dist/master/, one below where this file is.
declare const RPD_BUNDLED_IN: string | undefined
const HERE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  typeof RPD_BUNDLED_IN === 'string' ? '..' : '.',
)

export const PACKAGE_ROOT = path.resolve(HERE, '..')
// The detached master: node MASTER_ENTRY STATE_DIR [title padding].
// Its bundle, where the build made one: it starts in a third of the time of its modules loaded one by one.
const MASTER_BUNDLE = path.join(HERE, 'master', 'master-main.bundle.js')
export const MASTER_ENTRY = fs.existsSync(MASTER_BUNDLE)
  ? MASTER_BUNDLE
  : path.join(HERE, 'master', 'master-main.js')
// The built-in Resque worker the master spawns.
export const WORKER_ENTRY = path.join(HERE, 'worker', 'worker-main.js')
// oclif's description of every command and flag, which the fast command-line path reads.
export const MANIFEST = path.join(PACKAGE_ROOT, 'oclif.manifest.json')

// The master's process title, as ps shows it: `resque-pool-master[APP]: managing [PIDS]`.
export const MASTER_TITLE_PREFIX = 'resque-pool-master['

export function masterTitle(app: string, verb: string, pids: readonly number[]): string {
  return `${MASTER_TITLE_PREFIX}${app}]: ${verb} [${pids.join(', ')}]`
}

// True for a command line that is a master's: its title, or (in its first moments) its entry file.
export function isMasterCmdline(cmdline: string): boolean {
  return cmdline.startsWith(MASTER_TITLE_PREFIX) || cmdline.split(' ')[1] === MASTER_ENTRY
}
