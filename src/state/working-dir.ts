import fs from 'node:fs'
import path from 'node:path'

// The working directory as the user's shell names it ($PWD, `pwd -L`), not the physical path getcwd() gives: a
// deploy that flips a `current` symlink must have respawned workers enter the new release, not the old one.
export function logicalCwd(env: NodeJS.ProcessEnv = process.env): string {
  const physical = process.cwd()
  const given = env.PWD
  if (!given || !path.isAbsolute(given) || given === physical) return physical
  try {
    const [a, b] = [fs.statSync(given), fs.statSync(physical)]
    return a.dev === b.dev && a.ino === b.ino ? path.normalize(given) : physical
  } catch {
    return physical
  }
}

// Why workers cannot be started in dir, or undefined when they can (its being gone is what spawn calls ENOENT).
export function workingDirProblem(dir: string): string | undefined {
  try {
    if (fs.statSync(dir).isDirectory()) return undefined
    return `working directory ${dir} is not a directory: make it one, or rpd stop and start the pool from another`
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `working directory ${dir} is gone (deleted or unmounted): recreate it, or rpd stop and start the pool from an existing one`
      : `working directory ${dir} cannot be entered (${code}): fix its permissions, or rpd stop and start the pool from another`
  }
}
