import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { errorMessage, usageError } from '../errors.js'

export type Perform = (...args: unknown[]) => unknown

export const JOB_MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs']

// The file must exist and be a module Node can import, or `start` fails with exit 2 before any worker runs.
export function checkJobsPath(file: string): string {
  const absolute = path.resolve(file)
  let stat: fs.Stats
  try {
    stat = fs.statSync(absolute)
  } catch {
    throw usageError(`jobs module ${absolute} not found: pass --jobs the path of a .js, .mjs or .cjs file`)
  }
  if (!stat.isFile())
    throw usageError(`jobs module ${absolute} is not a file: pass --jobs a .js, .mjs or .cjs file`)
  if (!JOB_MODULE_EXTENSIONS.includes(path.extname(absolute)))
    throw usageError(
      `jobs module ${absolute} is not a .js, .mjs or .cjs file: rename it or point --jobs at its compiled output`,
    )
  return absolute
}

// A job is a function, or an object whose perform() is called with the object as `this`.
function asPerform(value: unknown): Perform | undefined {
  if (typeof value === 'function') return value as Perform
  if (value && typeof value === 'object') {
    const perform = (value as { perform?: unknown }).perform
    if (typeof perform === 'function') return (perform as Perform).bind(value)
  }
  return undefined
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Class name -> perform, from named exports and a default-exported object (a CommonJS module.exports is one).
export function collectJobs(namespace: Record<string, unknown>): Map<string, Perform> {
  const jobs = new Map<string, Perform>()
  const sources = [isPlainObject(namespace.default) ? namespace.default : {}, namespace]
  for (const source of sources) {
    for (const [name, value] of Object.entries(source)) {
      if (name === 'default' || name === '__esModule') continue
      const perform = asPerform(value)
      if (perform) jobs.set(name, perform)
    }
  }
  return jobs
}

export async function loadJobs(file: string): Promise<Map<string, Perform>> {
  const absolute = checkJobsPath(file)
  let namespace: Record<string, unknown>
  try {
    namespace = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>
  } catch (error) {
    const first =
      errorMessage(error)
        .split('\n')
        .find((line) => line.trim() !== '') ?? 'it threw'
    throw usageError(`jobs module ${absolute} failed to load: ${first}; fix it, then start again`)
  }
  const jobs = collectJobs(namespace)
  if (jobs.size === 0)
    throw usageError(
      `jobs module ${absolute} exports no jobs: export {Name: {perform(...args)}} or {Name: async function}, named or as the default object`,
    )
  return jobs
}
