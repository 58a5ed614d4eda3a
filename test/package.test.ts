import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, cleanupStates, fixture, newStateDir } from './helpers/cli.js'

const run = promisify(execFile)
const NPM_TIMEOUT_MS = 240_000
let work: string
let tarball: string

// What a user gets from the registry: the packed tarball, installed into a project of its own.
beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rpd-pack-'))
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work, '--ignore-scripts'], {
    cwd: ROOT,
    timeout: NPM_TIMEOUT_MS,
  })
  tarball = path.join(work, (JSON.parse(stdout) as { filename: string }[])[0].filename)
}, NPM_TIMEOUT_MS)

afterAll(() => {
  cleanupStates()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

const npmInstall = (cwd: string, args: string[]) =>
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args], {
    cwd,
    timeout: NPM_TIMEOUT_MS,
  })

describe('the packed package', () => {
  it('holds the built code, the manifest, types and the licence, and no sources or tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball])
    const files = stdout.split('\n').filter(Boolean)
    for (const file of [
      'package/bin/run.js',
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/dist/master/master-main.js',
      'package/dist/master/master-main.bundle.js',
      'package/dist/worker/worker-main.js',
      'package/oclif.manifest.json',
      'package/LICENSE',
    ])
      expect(files).toContain(file)
    expect(files.some((file) => file.startsWith('package/src/') || file.startsWith('package/test/'))).toBe(
      false,
    )
  })

  it(
    'installed into a project, imports as a library and drives a real pool; its rpd works',
    async () => {
      const app = path.join(work, 'app')
      fs.mkdirSync(app)
      fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","version":"1.0.0","type":"module"}\n')
      await npmInstall(app, [tarball])
      const dir = newStateDir()
      fs.writeFileSync(
        path.join(app, 'app.mjs'),
        `import { Pool, RpdError } from 'resque-pool-dynamic'
const pool = new Pool({ stateDir: process.argv[2] })
await pool.start({ formation: { foo: 2 }, command: ${JSON.stringify(`bash ${fixture('idle-worker.sh')}`)} })
const s = await pool.status()
let code
try { await pool.scale('foo=x') } catch (e) { code = e instanceof RpdError && e.code }
await pool.stop({ timeout: 20 })
console.log(JSON.stringify({ workers: s.workers.length, code, after: (await pool.status()).running }))
`,
      )
      const { stdout } = await run(process.execPath, ['app.mjs', dir], { cwd: app, timeout: 60_000 })
      expect(JSON.parse(stdout)).toEqual({ workers: 2, code: 'BAD_SPEC', after: false })
      const help = await run(path.join(app, 'node_modules/.bin/rpd'), ['--help'], { cwd: app })
      expect(help.stdout).toMatch(/scale/)
      const version = await run(path.join(app, 'node_modules/.bin/rpd'), ['--version'], { cwd: app })
      expect(version.stdout).toMatch(/resque-pool-dynamic\/\d+\.\d+\.\d+/)
    },
    NPM_TIMEOUT_MS,
  )

  it(
    'works installed globally and through npx',
    async () => {
      const prefix = path.join(work, 'global')
      await npmInstall(work, ['-g', '--prefix', prefix, tarball])
      const global = await run(path.join(prefix, 'bin/rpd'), ['status', '--state-dir', newStateDir()]).catch(
        (error: { code: number; stdout: string }) => error,
      )
      expect(global.stdout).toMatch(/not running/)
      const npx = await run('npx', ['--yes', '--prefer-offline', '--package', tarball, 'rpd', '--help'], {
        cwd: work,
        timeout: NPM_TIMEOUT_MS,
      })
      expect(npx.stdout).toMatch(/USAGE|scale/)
    },
    NPM_TIMEOUT_MS,
  )
})
