// `rpd status` without oclif: scripts poll it, and loading oclif doubles its start-up time.
// Only the plain forms are answered here; anything else (help, bad flags, errors) goes to oclif.
import { parseArgs } from 'node:util'
import { reportStatus } from './lib/pool-status.js'
import { resolveStateDir } from './lib/state-dir.js'

export async function runStatusFast(args: string[]): Promise<number | undefined> {
  let values: { json?: boolean; 'state-dir'?: string }
  try {
    values = parseArgs({
      args,
      strict: true,
      options: { json: { type: 'boolean' }, 'state-dir': { type: 'string' } },
    }).values
  } catch {
    return undefined
  }
  const lines: string[] = []
  try {
    const code = await reportStatus(resolveStateDir(values['state-dir']), values.json ?? false, (line) =>
      lines.push(line),
    )
    process.stdout.write(lines.map((line) => `${line}\n`).join(''))
    return code
  } catch {
    return undefined
  }
}
