import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { MASTER_ENTRY, PACKAGE_ROOT, WORKER_ENTRY } from '../dist/paths.js'
import { ROOT } from './helpers/cli.js'

// The build bundles the master, and rpd start launches that bundle: every pool of the suite runs it
// (built-in workers, Redis, metrics and the fleet included), so its paths must be those of dist/.
describe("the master's bundle", () => {
  it('is what rpd start launches', () => {
    expect(MASTER_ENTRY).toBe(path.join(ROOT, 'dist/master/master-main.bundle.js'))
    expect(PACKAGE_ROOT).toBe(ROOT)
    expect(WORKER_ENTRY).toBe(path.join(ROOT, 'dist/worker/worker-main.js'))
  })
})
