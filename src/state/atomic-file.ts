import fs from 'node:fs'
import { fileError } from './file-errors.js'

// Opens for writing without following a symbolic link planted in the state directory (ELOOP instead).
export const WRITE_NOFOLLOW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW
const TRUNCATE_NOFOLLOW = WRITE_NOFOLLOW | fs.constants.O_TRUNC
export const APPEND_NOFOLLOW = WRITE_NOFOLLOW | fs.constants.O_APPEND

// Writes NAME.tmp, fsyncs it and renames it over NAME, so readers see the old file or the new one, never half.
// A snapshot rewritten often and rebuilt after a crash (status.json) may skip the fsync: the rename alone
// keeps readers consistent. A failed write (a full disk) removes NAME.tmp and says why.
export function writeFileAtomic(file: string, content: string, options: { fsync?: boolean } = {}): void {
  const tmp = `${file}.tmp`
  let fd: number
  try {
    fd = fs.openSync(tmp, TRUNCATE_NOFOLLOW, 0o600)
  } catch (error) {
    throw fileError(tmp, error)
  }
  try {
    try {
      fs.writeSync(fd, content)
      if (options.fsync !== false) fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (error) {
    fs.rmSync(tmp, { force: true })
    throw fileError(file, error)
  }
}

// Reads a file, or undefined when it does not exist.
export function readFileIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
