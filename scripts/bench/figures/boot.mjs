// What a CLI call and a master spend before doing anything: Node itself, oclif, and the heaviest imports, each in
// a fresh process. Shown to explain the start, scale and stop figures; no targets of their own.
import { run } from '../lib/measure.mjs'
import { ROOT, RPD_BIN } from '../lib/tools.mjs'

const importOf = (specifier) => [
  process.execPath,
  '--input-type=module',
  '-e',
  `await import('${specifier}')`,
]

export const BOOT_COMMANDS = {
  node: { label: '`node -e 0`', argv: [process.execPath, '-e', '0'] },
  cli: {
    label: '`rpd config --path` (a plain command: no oclif)',
    argv: [process.execPath, RPD_BIN, 'config', '--path'],
  },
  oclif: {
    label: '`rpd --version` (through oclif, as help and errors are)',
    argv: [process.execPath, RPD_BIN, '--version'],
  },
  scaleAction: {
    label: 'import dist/cli/actions/scale.js (what `rpd scale` loads)',
    argv: importOf('./dist/cli/actions/scale.js'),
  },
  oclifCore: { label: "import '@oclif/core'", argv: importOf('@oclif/core') },
  yaml: { label: "import 'yaml'", argv: importOf('yaml') },
  lockfile: { label: "import 'proper-lockfile'", argv: importOf('proper-lockfile') },
  master: {
    label: 'import dist/master/master.js (what the master loads)',
    argv: importOf('./dist/master/master.js'),
  },
  startPool: { label: 'import dist/client/start-pool.js', argv: importOf('./dist/client/start-pool.js') },
}

export async function measureBoot(ctx) {
  const names = Object.keys(BOOT_COMMANDS)
  const times = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < 1 + ctx.statusRounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]
      const { ms } = await run(BOOT_COMMANDS[name].argv, { cwd: ROOT })
      if (round > 0) times[name].push(ms)
    }
  }
  return times
}
