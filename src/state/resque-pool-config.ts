import fs from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'
import { usageError, errorMessage } from '../errors.js'
import { type Formation, validateFormation } from './formation.js'

export const RESQUE_POOL_FILES = ['resque-pool.yml', 'config/resque-pool.yml']

// resque-pool's config file: top-level `queue: count` entries, overridden by the section for the
// environment named in RACK_ENV / RAILS_ENV / RESQUE_ENV.
export function readResquePoolConfig(
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): { file: string; formation: Formation } | undefined {
  const file = RESQUE_POOL_FILES.map((name) => path.join(cwd, name)).find((candidate) =>
    fs.existsSync(candidate),
  )
  if (!file) return undefined
  let doc: unknown
  try {
    doc = YAML.parse(fs.readFileSync(file, 'utf8'))
  } catch (error) {
    throw usageError(
      `${file} is not valid YAML (${errorMessage(error).split('\n')[0]}): fix it, or give QUEUE=COUNT arguments`,
    )
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { file, formation: {} }
  const environment = env.RACK_ENV || env.RAILS_ENV || env.RESQUE_ENV
  const top: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(doc))
    if (typeof value !== 'object' || value === null) top[key] = value
  const section = environment ? (doc as Record<string, unknown>)[environment] : undefined
  const merged = { ...top, ...(section && typeof section === 'object' ? section : {}) }
  return { file, formation: validateFormation(merged, file) }
}
