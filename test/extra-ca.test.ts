// The master starts with NODE_EXTRA_CA_CERTS moved aside (Node would build its certificate store before the
// first line), puts it back for its workers, and gives the certificates to its own TLS connections to Redis.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEFERRED_CA_ENV, deferExtraCa, redisTlsOptions, restoreExtraCa } from '../src/proc/extra-ca.js'
import { cleanupStates, fixture, newStateDir, rpd, status, waitFor } from './helpers/cli.js'
import { freePort, type RedisServer, startRedis } from './helpers/redis.js'

describe('deferExtraCa and restoreExtraCa', () => {
  it('moves the variable aside and leaves everything else as it was', () => {
    const env = { PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' }
    const moved = deferExtraCa(env)
    expect(moved).toEqual({ PATH: '/bin', [DEFERRED_CA_ENV]: '/etc/ca.pem' })
    expect(env).toEqual({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' })
  })

  it('changes nothing without the variable, or when it is empty', () => {
    const env = { PATH: '/bin' }
    expect(deferExtraCa(env)).toBe(env)
    const empty = { NODE_EXTRA_CA_CERTS: '' }
    expect(deferExtraCa(empty)).toBe(empty)
  })

  it('leaves the variable alone when NODE_OPTIONS picks another certificate store', () => {
    for (const option of [
      '--use-openssl-ca',
      '--use-bundled-ca',
      '--max-old-space-size=99 --use-system-ca',
    ]) {
      const env = { NODE_EXTRA_CA_CERTS: '/etc/ca.pem', NODE_OPTIONS: option }
      expect(deferExtraCa(env)).toBe(env)
    }
  })

  it('puts the variable back, once', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin', [DEFERRED_CA_ENV]: '/etc/ca.pem' }
    restoreExtraCa(env)
    expect(env).toEqual({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' })
    restoreExtraCa(env)
    expect(env).toEqual({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' })
  })

  it('gives TLS options to rediss:// URLs only, with the file read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpdtest-ca-'))
    try {
      const file = path.join(dir, 'ca.pem')
      fs.writeFileSync(file, 'PEM TEXT')
      restoreExtraCa({ [DEFERRED_CA_ENV]: file })
      expect(redisTlsOptions('redis://127.0.0.1:6379')).toEqual({})
      const ca = redisTlsOptions('rediss://127.0.0.1:6379').tls?.ca as string[]
      expect(ca.at(-1)).toBe('PEM TEXT')
      expect(ca.length).toBeGreaterThan(1)
      fs.rmSync(file)
      expect(redisTlsOptions('rediss://127.0.0.1:6379')).toEqual({})
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

// A certificate authority of the test's own and a server certificate for 127.0.0.1 it signed.
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=rpd test CA',
  )
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  )
  fs.writeFileSync(path.join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n')
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext',
  )
  return {
    ca: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server.key'),
  }
}

function environOf(pid: number): Record<string, string> {
  const pairs = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
  return Object.fromEntries(
    pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  )
}

describe('a pool on Redis over TLS with NODE_EXTRA_CA_CERTS', () => {
  let certDir: string
  let certs: ReturnType<typeof makeCertificates>
  let server: RedisServer
  let tlsUrl: string

  beforeAll(async () => {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpdtest-tls-'))
    certs = makeCertificates(certDir)
    const tlsPort = await freePort()
    server = await startRedis(undefined, [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      certs.cert,
      '--tls-key-file',
      certs.key,
      '--tls-ca-cert-file',
      certs.ca,
      '--tls-auth-clients',
      'no',
    ])
    tlsUrl = `rediss://127.0.0.1:${tlsPort}`
  })
  afterAll(async () => {
    await server?.stop()
    fs.rmSync(certDir, { recursive: true, force: true })
  })
  afterEach(cleanupStates)

  it('the master reads queues over TLS without the variable; its workers get it back', async () => {
    const redis = server.client()
    const dir = newStateDir()
    const env = { NODE_EXTRA_CA_CERTS: certs.ca }
    const started = await rpd(
      ['start', 'secure=0..1', '--jobs', fixture('jobs-sleep.mjs'), '--redis', tlsUrl, '--state-dir', dir],
      { env },
    )
    expect(started.exitCode, started.stderr).toBe(0)
    const master = (await status(dir)).pid as number
    const masterEnv = environOf(master)
    expect(masterEnv.NODE_EXTRA_CA_CERTS).toBeUndefined()
    expect(masterEnv[DEFERRED_CA_ENV]).toBe(certs.ca)
    // Only the master's autoscaler, reading the queue over TLS, can grow the group from 0.
    await redis
      .pipeline()
      .sadd('resque:queues', 'secure')
      .rpush('resque:queue:secure', JSON.stringify({ class: 'Nap', args: [1, 'over-tls'] }))
      .exec()
    await waitFor(
      async () => (await redis.lrange('test:done', 0, -1)).some((e) => e.includes('over-tls')),
      'the job done',
      30_000,
    )
    const worker = (await status(dir)).workers.find((w) => w.queues === 'secure')
    expect(worker, 'a worker of secure').toBeDefined()
    const workerEnv = environOf(worker!.pid)
    expect(workerEnv.NODE_EXTRA_CA_CERTS).toBe(certs.ca)
    expect(workerEnv[DEFERRED_CA_ENV]).toBeUndefined()
  })

  it('without the certificate the master cannot reach that Redis, so the group stays at 0', async () => {
    const redis = server.client()
    const dir = newStateDir()
    const started = await rpd(
      ['start', 'plain=0..1', '--jobs', fixture('jobs-sleep.mjs'), '--redis', tlsUrl, '--state-dir', dir],
      { env: { NODE_EXTRA_CA_CERTS: '' } },
    )
    // start's preflight talks to Redis too and refuses an untrusted server.
    expect(started.exitCode).not.toBe(0)
    expect(started.stderr).toMatch(/certificate/)
    expect(await redis.llen('resque:queue:plain')).toBe(0)
  })
})
