import fs from 'node:fs'
import path from 'node:path'
import { errorMessage } from '../errors.js'

// A write that fails for want of room (ENOSPC, or a quota's EDQUOT).
export function isNoSpace(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

export function noSpaceMessage(dir: string): string {
  return `no space left on the filesystem holding ${dir} (ENOSPC): free some space there, or use another --state-dir`
}

// What went wrong with file, said so a user knows what to do: a full disk names its directory, a symbolic
// link (refused by O_NOFOLLOW) names itself.
export function describeFileError(file: string, error: unknown): string {
  if (isNoSpace(error)) return noSpaceMessage(path.dirname(file))
  if ((error as NodeJS.ErrnoException).code === 'ELOOP')
    return `${file} is a symbolic link, which rpd does not follow in its state directory: remove it`
  return errorMessage(error)
}

// The same error with that message, keeping its errno code for callers that test it.
export function fileError(file: string, error: unknown): Error {
  const described = new Error(describeFileError(file, error)) as NodeJS.ErrnoException
  described.code = (error as NodeJS.ErrnoException).code
  return described
}

// Says the filesystem holding dir is full when it has less than minBytes free for this user (root may use
// the blocks reserved for it), else undefined; undefined too where statfs cannot tell.
export function spaceProblem(dir: string, minBytes = 4096): string | undefined {
  try {
    const stats = fs.statfsSync(dir)
    const blocks = process.getuid?.() === 0 ? stats.bfree : stats.bavail
    return blocks * stats.bsize < minBytes ? noSpaceMessage(dir) : undefined
  } catch {
    return undefined
  }
}
