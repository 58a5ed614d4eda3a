import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { findStrays } from '../src/client/pool-status.js'
import { cleanupStates, newStateDir, waitFor } from './helpers/cli.js'

const started: ChildProcess[] = []
afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  cleanupStates()
})

// A process of the pool in dir as a master would start it: its own group, the pool's environment, this test
// process standing in as its master (its parent).
function poolChild(dir: string, script: string): number {
  const child = spawn('sh', ['-c', script], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, RPD_STATE_DIR: dir, RPD_MASTER_PID: String(process.pid) },
  })
  started.push(child)
  return child.pid!
}

const pidsOf = (dir: string, master: number | null) =>
  findStrays(dir, master, [])
    .map((p) => p.pid)
    .sort((a, b) => a - b)

describe('strays: the pool’s processes outside its workers', () => {
  it('a worker the live master has just spawned, before status.json lists it, is not one', async () => {
    const dir = newStateDir()
    fs.mkdirSync(dir, { recursive: true })
    const worker = poolChild(dir, 'exec sleep 30')
    await waitFor(() => fs.readFileSync(`/proc/${worker}/cmdline`, 'utf8').startsWith('sleep'), 'the exec')
    expect(pidsOf(dir, process.pid)).toEqual([])
    // The same process with another master, or none alive, is one.
    expect(pidsOf(dir, 1)).toEqual([worker])
    expect(pidsOf(dir, null)).toEqual([worker])
  })

  it('a daemon a worker started in a session of its own still is one', async () => {
    const dir = newStateDir()
    fs.mkdirSync(dir, { recursive: true })
    poolChild(dir, 'setsid sleep 31 & exec sleep 30')
    const daemon = await waitFor(
      () => findStrays(dir, process.pid, []).find((p) => p.command.startsWith('sleep 31')),
      'the daemon',
    )
    expect(pidsOf(dir, process.pid)).toEqual([daemon.pid])
    process.kill(daemon.pid, 'SIGKILL')
  })
})
