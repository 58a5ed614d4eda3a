import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { yaml } from './yaml.js'
import { usageError, errorMessage } from '../errors.js'
import { type Formation, validateFormation } from './formation.js'

export const RESQUE_POOL_FILES = ['resque-pool.yml', 'config/resque-pool.yml']

// How long Ruby may take to evaluate the file's ERB (it may load a Rails initializer's worth of code).
const ERB_TIMEOUT_MS = 30_000

export interface ResquePoolConfig {
  file: string
  formation: Formation
}

// The file resque-pool would read: -c/--config, else RESQUE_POOL_CONFIG, else the first of RESQUE_POOL_FILES.
export function findResquePoolFile(
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
  given?: string,
): string | undefined {
  const named = given ?? (env.RESQUE_POOL_CONFIG || undefined)
  if (named !== undefined) {
    const file = path.resolve(cwd, named)
    if (!fs.existsSync(file))
      throw usageError(
        `${file} does not exist (named by ${given !== undefined ? '--config' : 'RESQUE_POOL_CONFIG'}): fix the path`,
      )
    return file
  }
  return RESQUE_POOL_FILES.map((name) => path.join(cwd, name)).find((candidate) => fs.existsSync(candidate))
}

// The environment whose section applies, as resque-pool picks it.
export function poolEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  return env.RACK_ENV || env.RAILS_ENV || env.RESQUE_ENV || undefined
}

// The environment workers run and the formation is read in: -E/--environment sets resque-pool's three variables.
export function environmentFor(env: NodeJS.ProcessEnv, environment: string | undefined): NodeJS.ProcessEnv {
  return environment
    ? { ...env, RACK_ENV: environment, RAILS_ENV: environment, RESQUE_ENV: environment }
    : env
}

// resque-pool's config file: top-level `queue: count` entries, overridden by the section for the
// environment named in RACK_ENV / RAILS_ENV / RESQUE_ENV.
export function readResquePoolConfig(
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
  given?: string,
): ResquePoolConfig | undefined {
  const file = findResquePoolFile(cwd, env, given)
  return file ? readResquePoolFile(file, cwd, env) : undefined
}

export function readResquePoolFile(file: string, cwd: string, env: NodeJS.ProcessEnv): ResquePoolConfig {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw usageError(`cannot read ${file}: ${errorMessage(error)}`)
  }
  if (text.includes('<%')) text = evaluateErb(file, text, cwd, env)
  let doc: unknown
  try {
    doc = yaml().parse(text)
  } catch (error) {
    throw usageError(
      `${file} is not valid YAML (${errorMessage(error).split('\n')[0]}): fix it, or give QUEUE=COUNT arguments`,
    )
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { file, formation: {} }
  const environment = poolEnvironment(env)
  const top: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(doc))
    if (typeof value !== 'object' || value === null) top[key] = value
  const section = environment ? (doc as Record<string, unknown>)[environment] : undefined
  const merged = { ...top, ...(section && typeof section === 'object' ? section : {}) }
  return { file, formation: validateFormation(merged, file) }
}

// resque-pool runs the file through Ruby's ERB before YAML; so does rpd, with Ruby itself.
function evaluateErb(file: string, text: string, cwd: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync('ruby', ['-rerb', '-e', 'print ERB.new(File.read(ARGV[0])).result', file], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: ERB_TIMEOUT_MS,
  })
  const line = text.slice(0, text.indexOf('<%')).split('\n').length
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw usageError(
      `${file}:${line} uses ERB (<% %>), which needs ruby on the PATH: install Ruby, or write plain numbers`,
    )
  if (result.status !== 0) {
    const reason = (result.stderr || errorMessage(result.error)).trim().split('\n')[0]
    throw usageError(`${file}: its ERB failed in ruby: ${reason}`)
  }
  return result.stdout
}
