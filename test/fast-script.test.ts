import net from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  ConnectionLost,
  FastConnection,
  FastScript,
  fastTarget,
  parseReply,
} from '../src/resque/fast-script.js'
import { type RedisServer, usePrivateRedis } from './helpers/redis.js'

let server: RedisServer
usePrivateRedis((s) => {
  server = s
})

describe("the worker's own connection for its per-job script", () => {
  it('parses the replies the scripts give, whole or cut anywhere', () => {
    const text = '*2\r\n:1\r\n$10\r\n{"a":"é"}\r\n'
    const buf = Buffer.from(text)
    expect(parseReply(buf, 0)).toEqual({ reply: [1, '{"a":"é"}'], end: buf.length })
    for (let cut = 1; cut < buf.length; cut++) expect(parseReply(buf.subarray(0, cut), 0)).toBeUndefined()
    expect(parseReply(Buffer.from('$-1\r\n'), 0)?.reply).toBeNull()
    expect(parseReply(Buffer.from('-NOSCRIPT gone\r\n'), 0)?.reply).toEqual(new Error('NOSCRIPT gone'))
  })

  it('speaks plain redis:// only, with its password and database', () => {
    expect(fastTarget('redis://u:p%40ss@10.0.0.1:6380/2')).toEqual({
      host: '10.0.0.1',
      port: 6380,
      username: 'u',
      password: 'p@ss',
      db: 2,
    })
    expect(fastTarget('redis://[::1]')).toMatchObject({ host: '::1', port: 6379, db: 0 })
    expect(fastTarget('rediss://host:6379')).toBeUndefined()
    expect(fastTarget('/tmp/redis.sock')).toBeUndefined()
  })

  it('runs a script by EVAL, then EVALSHA, against a real Redis, in order', async () => {
    const target = fastTarget(server.url)!
    const connection = new FastConnection(target)
    const client = server.client()
    try {
      const script = new FastScript("return {redis.call('INCR', KEYS[1]), ARGV[1]}")
      const replies = await Promise.all(
        ['a', 'b', 'ç'].map((arg) => connection.run(script, ['1', 'fast:count', arg])),
      )
      expect(replies).toEqual([
        [1, 'a'],
        [2, 'b'],
        [3, 'ç'],
      ])
      expect(connection.usable).toBe(true)
      const info = await client.info('commandstats')
      expect(info).toMatch(/cmdstat_eval:calls=1,/)
      expect(info).toMatch(/cmdstat_evalsha:calls=2,/)
    } finally {
      connection.close()
    }
  })

  it('answers replies larger than its read buffer, many in flight, through promises and callbacks alike', async () => {
    const connection = new FastConnection(fastTarget(server.url)!)
    try {
      const echo = new FastScript('return ARGV[1]')
      // Each several reads long, and sent together, so one read holds the end of one and the start of the next.
      const texts = [200_000, 3, 150_001, 65_536, 1].map((n, i) => `${'é'.repeat(n)}${i}`)
      const byCallback: (string | undefined)[] = []
      const called = new Promise<void>((resolve) => {
        let left = texts.length
        texts.forEach((text, i) =>
          connection.call(echo, ['0', text], (lost, reply) => {
            byCallback[i] = lost ? undefined : (reply as string)
            if (--left === 0) resolve()
          }),
        )
      })
      const byPromise = await Promise.all(texts.map((text) => connection.run(echo, ['0', text])))
      await called
      expect(byPromise.map((reply) => (reply as string).length)).toEqual(texts.map((text) => text.length))
      expect(byPromise).toEqual(texts)
      expect(byCallback).toEqual(texts)
    } finally {
      connection.close()
    }
  })

  it('answers the replies before one that is not RESP, then counts the rest as lost', async () => {
    // A server that answers the first call, then sends bytes no Redis would.
    const peer = net.createServer((socket) => socket.once('data', () => socket.write(':7\r\n?garbage\r\n')))
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve))
    const { port } = peer.address() as net.AddressInfo
    const connection = new FastConnection({ host: '127.0.0.1', port })
    try {
      const script = new FastScript('return 7')
      const settled = await Promise.allSettled([connection.run(script, ['0']), connection.run(script, ['0'])])
      expect(settled[0]).toEqual({ status: 'fulfilled', value: 7 })
      expect(settled[1].status).toBe('rejected')
      expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConnectionLost)
      expect(connection.lost).toBe(true)
    } finally {
      connection.close()
      await new Promise((resolve) => peer.close(resolve))
    }
  })
})
