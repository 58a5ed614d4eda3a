// The tools under test, each behind the same few verbs: rpd (this checkout's bin/run.js), PM2 with a private
// PM2_HOME, and a private redis-server. Every instance registers its own cleanup.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { killInFlight, run } from './measure.mjs'
import { descendants, identityOf, isAlive, readPidFile, waitFor } from './proc.mjs'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const RPD_BIN = path.join(ROOT, 'bin/run.js')
export const PM2_BIN = path.join(ROOT, 'node_modules/pm2/bin/pm2')
export const IDLE_WORKER = path.join(ROOT, 'scripts/bench/fixtures/idle-worker.sh')
export const NOOP_JOBS = path.join(ROOT, 'scripts/bench/fixtures/noop-jobs.mjs')
export const MULTI_WORKER = path.join(ROOT, 'scripts/bench/fixtures/multi-worker.mjs')

const cleanups = new Set()

// Runs every registered cleanup (each bounded by its own timeouts); safe to call more than once.
export async function cleanUpAll() {
  killInFlight()
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn)
    try {
      await fn()
    } catch (error) {
      process.stderr.write(`bench: cleanup failed: ${error.message}\n`)
    }
  }
}

function register(fn) {
  cleanups.add(fn)
  return () => cleanups.delete(fn)
}

// Every process a tool starts inherits BENCH_OWNER=<its directory>, so that leftovers of an interrupted run
// (a master or daemon still booting when the CLI was killed) can be found and ended.
const OWNER_VAR = 'BENCH_OWNER'

function ownedProcesses(owner) {
  const mark = `${OWNER_VAR}=${owner}`
  const out = []
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    try {
      if (fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(mark)) {
        const identity = identityOf(pid)
        if (identity) out.push(identity)
      }
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out
}

// KILL for whatever still carries the owner's mark after the tool's own way of stopping.
async function killOwned(owner) {
  const left = ownedProcesses(owner)
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  await waitGone(left, `leftover processes of ${owner} to exit`, 10_000)
}

// The environment without anything that would point rpd or PM2 at a pool other than the one under test.
function cleanEnv(extra = {}) {
  const env = { ...process.env }
  for (const key of Object.keys(env))
    if (/^(RPD_|PM2_)/.test(key) || ['WORKERS', 'DEBUG', 'REDIS_URL', 'QUEUE', 'QUEUES'].includes(key))
      delete env[key]
  return { ...env, ...extra }
}

// Waits until every identity is gone (exited, reaped or a zombie).
export function waitGone(identities, what, timeoutMs = 30_000) {
  return waitFor(() => identities.every((id) => !isAlive(id)), { timeoutMs, what })
}

export class Rpd {
  constructor(dir, { env = {} } = {}) {
    this.dir = dir
    this.cwd = path.dirname(dir)
    fs.mkdirSync(this.cwd, { recursive: true })
    this.env = cleanEnv({ ...env, [OWNER_VAR]: dir })
    this.unregister = register(() => this.forceStop())
  }

  cli(args, options = {}) {
    return run([process.execPath, RPD_BIN, ...args, '--state-dir', this.dir], {
      env: this.env,
      cwd: this.cwd,
      ...options,
    })
  }

  start(specs, workerArgs = ['--command', `bash '${IDLE_WORKER}'`], options) {
    return this.cli(['start', ...specs, ...workerArgs], options)
  }

  scale(specs, options) {
    return this.cli(['scale', ...specs], options)
  }

  stop(options) {
    return this.cli(['stop', '--timeout', '20'], options)
  }

  masterPid() {
    return readPidFile(path.join(this.dir, 'master.pid'))
  }

  status() {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, 'status.json'), 'utf8'))
    } catch {
      return undefined
    }
  }

  logLines() {
    try {
      return fs.readFileSync(path.join(this.dir, 'master.log'), 'utf8').split('\n')
    } catch {
      return []
    }
  }

  // Stops whatever still runs, escalating, and waits for it all to be gone.
  async forceStop() {
    const pid = this.masterPid()
    if (pid) {
      const left = descendants(pid)
      await this.cli(['stop', '--timeout', '5'], { allowFail: true, timeoutMs: 30_000 })
      await waitGone(left, `the workers of ${this.dir} to exit`, 15_000)
    }
    await killOwned(this.dir)
  }

  async dispose() {
    await this.forceStop()
    this.unregister()
  }
}

export class Pm2 {
  constructor(home) {
    this.home = home
    fs.mkdirSync(home, { recursive: true })
    // PM2 asks its version server on the first use of a PM2_HOME (and daily): keep the benchmark on loopback.
    fs.writeFileSync(path.join(home, 'touch'), String(Date.now()))
    this.env = cleanEnv({ PM2_HOME: home, PM2_DISABLE_VERSION_CHECK: '1', [OWNER_VAR]: home })
    this.unregister = register(() => this.kill())
  }

  cli(args, options = {}) {
    return run([process.execPath, PM2_BIN, ...args], { env: this.env, cwd: this.home, ...options })
  }

  // An ecosystem file: fork mode (PM2's -i means cluster mode only for node scripts), N instances of the
  // same idle script rpd runs, PM2's defaults otherwise except vizion (no git metadata collection).
  writeEcosystem(name, instances) {
    const file = path.join(this.home, `${name}.config.cjs`)
    const app = {
      name,
      script: IDLE_WORKER,
      interpreter: 'bash',
      exec_mode: 'fork',
      instances,
      vizion: false,
    }
    fs.writeFileSync(file, `module.exports = ${JSON.stringify({ apps: [app] }, null, 2)}\n`)
    return file
  }

  daemonPid() {
    return readPidFile(path.join(this.home, 'pm2.pid'))
  }

  // pm2 kill, then make sure the daemon and everything below it are gone.
  async kill() {
    const pid = this.daemonPid()
    const daemon = pid ? identityOf(pid) : undefined
    const left = daemon ? [daemon, ...descendants(pid)] : []
    await this.cli(['kill'], { allowFail: true, timeoutMs: 30_000 })
    await waitGone(left, 'the PM2 daemon and its processes to exit', 15_000)
    await killOwned(this.home)
  }

  async dispose() {
    await this.kill()
    this.unregister()
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// A private redis-server on a free loopback port, no persistence; stopped by cleanUpAll or stop().
export async function startRedis(dir) {
  fs.mkdirSync(dir, { recursive: true })
  const port = await freePort()
  const pidFile = path.join(dir, 'redis.pid')
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const stop = async () => {
    const pid = readPidFile(pidFile)
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM')
        for (let i = 0; i < 200 && fs.existsSync(`/proc/${pid}`); i++) await sleep(25)
      } catch {
        // Already gone.
      }
    }
    await killOwned(dir)
  }
  const unregister = register(stop)
  await run(['redis-server', ...args, '--dir', dir, '--daemonize', 'yes', '--pidfile', pidFile], {
    env: cleanEnv({ [OWNER_VAR]: dir }),
  })
  const url = `redis://127.0.0.1:${port}`
  await waitFor(
    () => {
      const pid = readPidFile(pidFile)
      return pid && fs.existsSync(`/proc/${pid}`) ? pid : undefined
    },
    { what: 'redis-server to write its pid file', timeoutMs: 10_000, intervalMs: 20 },
  )
  return {
    port,
    url,
    stop: async () => {
      await stop()
      unregister()
    },
  }
}
