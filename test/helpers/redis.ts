import { afterAll, beforeAll, beforeEach } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { Redis } from 'ioredis'
import { waitFor } from './cli.js'

export interface RedisServer {
  port: number
  url: string
  process: ChildProcess
  client: () => Redis
  stop: () => Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

// A private redis-server on a free port, no persistence; stop() kills it. extraArgs go to redis-server
// (e.g. a TLS port beside the plain one, which the probe and client() use).
export async function startRedis(port?: number, extraArgs: readonly string[] = []): Promise<RedisServer> {
  const chosen = port ?? (await freePort())
  const child = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
    {
      stdio: 'ignore',
    },
  )
  const clients: Redis[] = []
  const url = `redis://127.0.0.1:${chosen}`
  await waitFor(async () => {
    const probe = new Redis(chosen, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    probe.on('error', () => undefined)
    try {
      await probe.connect()
      return (await probe.ping()) === 'PONG'
    } finally {
      probe.disconnect()
    }
  }, `redis-server on ${chosen}`)
  return {
    port: chosen,
    url,
    process: child,
    client: () => {
      const client = new Redis(chosen, '127.0.0.1')
      client.on('error', () => undefined)
      clients.push(client)
      return client
    },
    stop: async () => {
      for (const client of clients) client.disconnect()
      // Killed by signal, exitCode stays null: signalCode tells that it already ended.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
      }
    },
  }
}

// One private redis-server for a test file, emptied before each test; ready() receives it and a client.
export function usePrivateRedis(ready: (server: RedisServer, client: Redis) => void): void {
  let server: RedisServer | undefined
  let client: Redis | undefined
  beforeAll(async () => {
    server = await startRedis()
    client = server.client()
    ready(server, client)
  })
  afterAll(async () => {
    await server?.stop()
  })
  beforeEach(async () => {
    await client?.flushall()
  })
}
