// Ruby Resque for the peers: found through RUBYLIB (see ../shared/ruby/setup.sh), or reported as missing.
import { spawnSync } from 'node:child_process'
import { clearTimeout, setTimeout } from 'node:timers'
import path from 'node:path'
import { ROOT } from './tools.mjs'

export const RUBY_DIR = path.join(ROOT, 'scripts/bench/fixtures/ruby')
export const RESQUE_POOL_BIN = 'resque-pool'

// Undefined when Ruby, Resque and resque-pool load; else why not, for the report.
export function checkRuby() {
  const probe = spawnSync('ruby', ['-e', 'require "resque"; require "resque/pool"; print Resque::VERSION'], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  if (probe.error) return `ruby not found (${probe.error.code})`
  if (probe.status !== 0)
    return `ruby cannot load resque and resque-pool (set RUBYLIB, see ../shared/ruby/setup.sh): ${probe.stderr.trim().split('\n')[0]}`
  return undefined
}

// The resque-pool executable next to its library on RUBYLIB (it is not a gem here, so not on the PATH).
export function resquePoolExe() {
  for (const dir of (process.env.RUBYLIB ?? '').split(':').filter(Boolean)) {
    const exe = path.join(dir, '../exe/resque-pool')
    if (spawnSync('test', ['-f', exe]).status === 0) return exe
  }
  return undefined
}

// resque-pool with N workers of one queue, no fork per job, Resque's INTERVAL as given; stop() ends it with QUIT
// (Ruby's graceful stop), then KILL of whatever is left.
export async function startRubyPool({ dir, redisUrl, queue, workers, interval, launch, childrenOf }) {
  const fs = await import('node:fs')
  fs.mkdirSync(dir, { recursive: true })
  const config = path.join(dir, 'resque-pool.yml')
  fs.writeFileSync(config, `${queue}: ${workers}\n`)
  const exe = resquePoolExe()
  if (!exe) throw new Error('resque-pool not found beside the libraries on RUBYLIB')
  const env = { ...process.env, REDIS_URL: redisUrl, FORK_PER_JOB: 'false', INTERVAL: String(interval) }
  for (const key of ['QUEUE', 'QUEUES', 'RPD_JOBS']) delete env[key]
  const child = launch(['ruby', exe, '-c', config], { env, cwd: RUBY_DIR })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const pids = () => childrenOf(child.pid)
  const stop = async () => {
    const left = [child.pid, ...pids()]
    try {
      process.kill(child.pid, 'SIGQUIT')
    } catch {
      // Gone already.
    }
    const timer = setTimeout(() => {
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // Gone already.
        }
      }
    }, 10_000)
    await exited
    clearTimeout(timer)
  }
  return { child, pids, stop, output: () => output }
}

// Polls an async check every 50 ms until it holds or the deadline passes.
export async function waitUntil(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
