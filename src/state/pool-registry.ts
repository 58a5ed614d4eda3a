import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// Where this user's pools on this host are noted: one file per state directory, holding its path.
// $XDG_RUNTIME_DIR is per login and per host (a tmpfs); else ~/.local/state, keyed by host name too.
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_RUNTIME_DIR
    ? path.join(env.XDG_RUNTIME_DIR, 'rpd', 'pools')
    : path.join(env.HOME || os.homedir(), '.local', 'state', 'rpd', 'pools', os.hostname())
}

function entryFile(dir: string, env: NodeJS.ProcessEnv): string {
  return path.join(registryDir(env), `${crypto.createHash('sha256').update(dir).digest('hex').slice(0, 16)}`)
}

// Notes a started pool; a registry that cannot be written only costs `rpd list` this pool.
export function registerPool(dir: string, env: NodeJS.ProcessEnv = process.env): void {
  try {
    fs.mkdirSync(registryDir(env), { recursive: true, mode: 0o700 })
    fs.writeFileSync(entryFile(dir, env), `${dir}\n`, { mode: 0o600 })
  } catch {
    // rpd list also finds masters through /proc
  }
}

export function unregisterPool(dir: string, env: NodeJS.ProcessEnv = process.env): void {
  fs.rmSync(entryFile(dir, env), { force: true })
}

// The state directories noted, whether or not their pools still run.
export function readRegistry(env: NodeJS.ProcessEnv = process.env): string[] {
  let names: string[]
  try {
    names = fs.readdirSync(registryDir(env))
  } catch {
    return []
  }
  const dirs: string[] = []
  for (const name of names) {
    try {
      const dir = fs.readFileSync(path.join(registryDir(env), name), 'utf8').trim()
      if (path.isAbsolute(dir)) dirs.push(dir)
    } catch {
      // removed while we looked
    }
  }
  return dirs
}
