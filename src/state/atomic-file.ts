import fs from 'node:fs'

// Writes NAME.tmp, fsyncs it and renames it over NAME, so readers see the old file or the new one, never half.
// A snapshot rewritten often and rebuilt after a crash (status.json) may skip the fsync: the rename alone
// keeps readers consistent.
export function writeFileAtomic(file: string, content: string, options: { fsync?: boolean } = {}): void {
  const tmp = `${file}.tmp`
  const fd = fs.openSync(tmp, 'w', 0o600)
  try {
    fs.writeSync(fd, content)
    if (options.fsync !== false) fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
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
