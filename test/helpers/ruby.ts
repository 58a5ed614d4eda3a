import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'vitest'
import { ROOT } from './cli.js'

export type RubyResque = { ok: true; env: NodeJS.ProcessEnv } | { ok: false; reason: string }

// Beside the checkout in CI; it prints `export RUBYLIB=...` (installing packages only as root, so not from here).
const SETUP_SCRIPT = path.resolve(ROOT, '../shared/ruby/setup.sh')
const RUBY_FIXTURES = path.join(ROOT, 'test/fixtures/ruby')
export const RAKEFILE = path.join(RUBY_FIXTURES, 'Rakefile')

// Loads resque with the given RUBYLIB (undefined: the user's own gems); the reason when it cannot.
function tryResque(rubylib: string | undefined): string | undefined {
  const env: NodeJS.ProcessEnv = { ...process.env, RUBYLIB: rubylib }
  if (rubylib === undefined) delete env.RUBYLIB
  const result = spawnSync(
    'ruby',
    ['-e', 'require "resque"; require "resque/server"; puts Resque::VERSION'],
    {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    },
  )
  if (result.error) return `ruby: ${result.error.message}`
  if (result.status !== 0)
    return (
      /cannot load such file -- \S+/.exec(result.stderr)?.[0] ??
      (result.stderr.trim().split('\n')[0] || `ruby exited ${result.status}`)
    )
  return undefined
}

// The RUBYLIB setup.sh prints, worked out without running it: its install step needs root and the network.
function readSetupRubylib(): string | undefined {
  if (!fs.existsSync(SETUP_SCRIPT)) return undefined
  const here = path.dirname(SETUP_SCRIPT)
  const rubylib = [path.join(here, 'resque/lib'), path.join(here, 'resque-pool/lib')].join(':')
  return fs.existsSync(path.join(here, 'resque/lib/resque.rb')) ? rubylib : undefined
}

let found: RubyResque | undefined

// Ruby Resque, from RUBYLIB, else ../shared/ruby beside the checkout, else the user's own gems.
export function rubyResque(): RubyResque {
  if (found) return found
  const tried: string[] = []
  const candidates: [string, string | undefined][] = []
  if (process.env.RUBYLIB) candidates.push(['RUBYLIB from the environment', process.env.RUBYLIB])
  const shared = readSetupRubylib()
  if (shared) candidates.push([`RUBYLIB of ${SETUP_SCRIPT}`, shared])
  candidates.push(['ruby -rresque', undefined])
  for (const [label, rubylib] of candidates) {
    const failure = tryResque(rubylib)
    if (failure === undefined) {
      const env: NodeJS.ProcessEnv = rubylib === undefined ? {} : { RUBYLIB: rubylib }
      return (found = { ok: true, env })
    }
    tried.push(`${label}: ${failure}`)
  }
  return (found = {
    ok: false,
    reason: `Ruby Resque cannot be loaded (${tried.join('; ')}); set RUBYLIB (see README) to run these tests`,
  })
}

// A describe block that needs Ruby Resque: skipped with the reason where it is missing, but failing in CI.
export function describeRuby(name: string, body: (env: NodeJS.ProcessEnv) => void): void {
  const ruby = rubyResque()
  if (ruby.ok) describe(name, () => body(ruby.env))
  else if (process.env.CI)
    describe(name, () => {
      it('has Ruby Resque to run against', () => {
        throw new Error(`CI must run the Ruby Resque tests: ${ruby.reason}`)
      })
    })
  else describe.skipIf(true)(`${name} (skipped: ${ruby.reason})`, () => body({}))
}
