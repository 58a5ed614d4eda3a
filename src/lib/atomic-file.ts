import fs from 'node:fs'

// Writes NAME.tmp, fsyncs it and renames it over NAME, so readers see the old file or the new one, never half.
export function writeFileAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp`
  const fd = fs.openSync(tmp, 'w', 0o600)
  try {
    fs.writeSync(fd, content)
    fs.fsyncSync(fd)
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
