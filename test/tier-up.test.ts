import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { WORKER_ENTRY } from '../dist/paths.js'
import { ROOT } from './helpers/cli.js'

const PROBE = path.join(ROOT, 'test/fixtures/tier-probe-jobs.mjs')

// Runs node on args; the probe module, as it loads, prints how many calls V8 took to tier its function up.
function probe(args: string[]): { calls: number; stdout: string } {
  const run = spawnSync(process.execPath, ['--allow-natives-syntax', ...args], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr}`)
  const match = /tiered after (\d+) calls/.exec(run.stderr)
  if (!match) throw new Error(`no probe count in: ${run.stderr}`)
  return { calls: Number(match[1]), stdout: run.stdout }
}

// The built-in worker asks V8 to optimize hot code sooner (src/worker/tier-up.ts): its job loop is hot from the
// first job. The jobs module loads after that setting, so job code tiers up sooner too.
describe("the built-in worker's tier-up", () => {
  it('optimizes a hot function of a jobs module in under half the calls plain node needs', () => {
    const plain = probe(['--input-type=module', '-e', `await import(${JSON.stringify(PROBE)})`])
    // --check-jobs loads the jobs module through the worker's own entry, then lists its jobs.
    const worker = probe([WORKER_ENTRY, '--check-jobs', PROBE])
    expect(JSON.parse(worker.stdout)).toEqual(['Probe'])
    expect(plain.calls).toBeGreaterThan(100)
    expect(worker.calls).toBeLessThan(plain.calls / 2)
  })
})
