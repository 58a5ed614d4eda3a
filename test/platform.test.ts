import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, cleanupStates, newStateDir } from './helpers/cli.js'

const run = promisify(execFile)
afterEach(cleanupStates)

describe('Linux, honestly', () => {
  it('without /proc, start refuses in one line and spawns nothing', async () => {
    const dir = newStateDir()
    // A private mount namespace with an empty tmpfs over /proc: what a container that hides it looks like.
    const script = `mount -t tmpfs none /proc && exec ${process.execPath} ${BIN} start foo=1 --command 'sleep 100' --state-dir ${dir}`
    const result = await run('unshare', ['--mount', 'sh', '-c', script]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    )
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/\/proc is not available here/)
    expect(fs.existsSync(path.join(dir, 'master.pid'))).toBe(false)
  })

  it('without setpriv, start warns that workers will not follow a killed master, and runs', async () => {
    const dir = newStateDir()
    // /dev/null bound over setpriv: it is there, but no program.
    const script = `mount --bind /dev/null /usr/bin/setpriv && exec ${process.execPath} ${BIN} start foo=1 --command 'sleep 100' --state-dir ${dir}`
    const { stdout } = await run('unshare', ['--mount', 'sh', '-c', script])
    expect(stdout).toMatch(
      /warning: setpriv \(util-linux\) is not installed: workers will not be told to stop/,
    )
    expect(fs.existsSync(path.join(dir, 'master.pid'))).toBe(true)
  })
})
