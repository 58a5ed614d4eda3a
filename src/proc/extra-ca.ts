// NODE_EXTRA_CA_CERTS makes Node build its whole certificate store as a process starts, before the first line
// of the program runs: some 20 ms with one extra certificate, 40 ms with a system bundle, on every start. rpd's
// master and built-in workers need those certificates only to reach Redis over TLS (rediss://), which most
// pools never do. So they are started with the variable under another name, put it back in their environment
// for whatever they start in turn, and hand the file to their own TLS connections themselves.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import type tls from 'node:tls'

// node:tls (and with it all of crypto) loads only for a TLS connection: a plain master never pays for it.
const load = createRequire(import.meta.url)

export const DEFERRED_CA_ENV = 'RPD_EXTRA_CA_CERTS'

// Options that choose another certificate store than Node's own, which rpd could not rebuild by hand.
const CA_STORE_OPTIONS = /--use-(openssl|bundled|system)-ca/

let deferredFile: string | undefined

// The environment to start an rpd process with: NODE_EXTRA_CA_CERTS moved aside.
export function deferExtraCa(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = env.NODE_EXTRA_CA_CERTS
  if (!file || CA_STORE_OPTIONS.test(env.NODE_OPTIONS ?? '')) return env
  const moved: NodeJS.ProcessEnv = { ...env, [DEFERRED_CA_ENV]: file }
  delete moved.NODE_EXTRA_CA_CERTS
  return moved
}

// First thing in an rpd process: NODE_EXTRA_CA_CERTS back where the processes it starts expect it.
export function restoreExtraCa(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED_CA_ENV]
  if (file === undefined) return
  delete env[DEFERRED_CA_ENV]
  env.NODE_EXTRA_CA_CERTS = file
  deferredFile = file
}

// ioredis options for a Redis URL: over TLS, with the deferred certificates, Node's own roots and those in
// the file, which is what Node itself would have trusted. A file that cannot be read is left out, as Node
// leaves it out (with a warning) at start.
export function redisTlsOptions(url: string): { tls?: tls.ConnectionOptions } {
  if (!deferredFile || !url.startsWith('rediss://')) return {}
  let extra: string
  try {
    extra = fs.readFileSync(deferredFile, 'utf8')
  } catch {
    return {}
  }
  const { rootCertificates } = load('node:tls') as typeof tls
  return { tls: { ca: [...rootCertificates, extra] } }
}
