import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa, type ResultPromise } from 'execa'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const BIN = path.join(ROOT, 'bin/run.js')
export const FIXTURES = path.join(ROOT, 'test/fixtures')
export const fixture = (name: string) => path.join(FIXTURES, name)

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

// Runs the real CLI as a user would: node bin/run.js ARGS, in its own process.
export async function rpd(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const result = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    cwd: options.cwd ?? ROOT,
    env: { DEBUG: '', ...options.env },
    extendEnv: true,
    timeout: options.timeoutMs ?? 90_000,
    stdin: 'ignore',
  })
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) }
}

// Starts the CLI without waiting for it (for logs -f, shells, interrupted commands).
export function rpdSpawn(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ResultPromise {
  return execa(process.execPath, [BIN, ...args], {
    reject: false,
    cwd: options.cwd ?? ROOT,
    env: { DEBUG: '', ...options.env },
    stdin: 'ignore',
    buffer: true,
  })
}

// Polls fn until it returns a truthy value or the deadline passes; returns that value.
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value) return value as NonNullable<T>
      last = value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

// pid -> [state, ppid, pgrp] of every process, from /proc.
export function processTable(): Map<number, { state: string; ppid: number; pgrp: number }> {
  const table = new Map<number, { state: string; ppid: number; pgrp: number }>()
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      table.set(Number(name), { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]) })
    } catch {
      // exited while we looked
    }
  }
  return table
}

export function groupAlive(pgid: number): boolean {
  for (const proc of processTable().values()) if (proc.pgrp === pgid && proc.state !== 'Z') return true
  return false
}

export function childrenOf(pid: number): number[] {
  return [...processTable()].filter(([, p]) => p.ppid === pid && p.state !== 'Z').map(([child]) => child)
}

export function environOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const at = entry.indexOf('=')
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1)
  }
  return env
}

export interface StatusJson {
  running: boolean
  pid: number | null
  stateDir: string
  generation: number
  formation: Record<string, number>
  workers: {
    pid: number
    queues: string
    state: string
    startedAt: string
    restarts: number
    title?: string
    job?: unknown
    problem?: string
  }[]
  [key: string]: unknown
}

const created: string[] = []

// A fresh private state directory (mode 0700 parent); cleanupStates() kills whatever ran from it.
export function newStateDir(): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rpdtest-'))
  fs.chmodSync(base, 0o700)
  const dir = path.join(base, 'state')
  created.push(dir)
  return dir
}

// A fresh app directory whose pool lives in APP/.rpd (found from APP and below without --state-dir).
export function newAppDir(): string {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'rpdtest-'))
  fs.chmodSync(app, 0o700)
  created.push(path.join(app, '.rpd'))
  return app
}

export async function status(dir: string): Promise<StatusJson> {
  const result = await rpd(['status', '--json', '--state-dir', dir])
  return JSON.parse(result.stdout) as StatusJson
}

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL')
    } catch {
      // gone
    }
  }
}

// Kills the master (stopped first, so it cannot respawn) and every worker group a state dir's files name.
export function killPool(dir: string): void {
  let master: number | undefined
  try {
    master = Number(fs.readFileSync(path.join(dir, 'master.pid'), 'utf8').split('\n')[0])
  } catch {
    master = undefined
  }
  let workers: number[] = []
  try {
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as {
      pid: number
      workers: { pid: number }[]
    }
    master ??= file.pid
    workers = file.workers.map((w) => w.pid)
  } catch {
    // no status
  }
  if (master && alive(master) && fs.readFileSync(`/proc/${master}/cmdline`, 'utf8').includes('master')) {
    process.kill(master, 'SIGSTOP')
    workers.push(...childrenOf(master))
    for (const pid of workers) killGroup(pid)
    killGroup(master)
  } else {
    for (const pid of workers) if (alive(pid)) killGroup(pid)
  }
}

export function cleanupStates(): void {
  for (const dir of created.splice(0)) {
    killPool(dir)
    fs.rmSync(path.dirname(dir), { recursive: true, force: true })
  }
}
