// Running commands with a wall clock around them, and the statistics the report quotes.
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { clearTimeout, setTimeout } from 'node:timers'

// Children still running, so that an interrupted benchmark can end them before cleaning up.
const inFlight = new Set()

function track(child) {
  inFlight.add(child)
  child.on('exit', () => inFlight.delete(child))
  child.on('error', () => inFlight.delete(child))
  return child
}

export function killInFlight() {
  for (const child of inFlight) child.kill('SIGKILL')
  inFlight.clear()
}

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

// Runs argv to completion; resolves with its exit code, output and wall time (ms, from spawn to exit).
// Throws when it exits non-zero (unless allowFail) or outlives timeoutMs (then it is killed).
export function run(argv, { env = process.env, cwd, timeoutMs = 120_000, allowFail = false, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = track(spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] }))
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('exit', (code, signal) => {
      const ms = performance.now() - started
      clearTimeout(timer)
      const result = { code, signal, stdout, stderr, ms }
      if ((code === 0 || allowFail) && !signal) return resolve(result)
      const output = `${stderr}${stdout}`.trim().split('\n').slice(-5).join(' | ')
      reject(new Error(`${argv.join(' ')} ${signal ? `killed (${signal})` : `exited ${code}`}: ${output}`))
    })
    onSpawn?.(child)
  })
}

// Starts argv without waiting; the caller ends it.
export function launch(argv, { env = process.env, cwd } = {}) {
  return track(spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] }))
}
