import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ListenAddressError,
  type MetricsServer,
  METRICS_CONTENT_TYPE,
  parseListen,
  serveMetrics,
} from '../src/present/metrics-server.js'

const opened: MetricsServer[] = []
const blockers: net.Server[] = []

afterEach(async () => {
  await Promise.all(opened.splice(0).map((server) => server.close()))
  await Promise.all(blockers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

async function serve(listen: string, render: () => Promise<string> | string): Promise<MetricsServer> {
  const server = await serveMetrics(listen, render)
  opened.push(server)
  return server
}

function listenErrorOf(text: string): ListenAddressError {
  try {
    parseListen(text)
  } catch (error) {
    expect(error).toBeInstanceOf(ListenAddressError)
    expect((error as ListenAddressError).exit).toBe(2)
    return error as ListenAddressError
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`)
}

describe('serveMetrics', () => {
  it('serves the rendered text at GET /metrics on loopback', async () => {
    let scrapes = 0
    const server = await serve('127.0.0.1:0', () => `# HELP up x\n# TYPE up gauge\nup ${++scrapes}\n`)
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(server.address).not.toBe('127.0.0.1:0')
    const first = await fetch(server.url)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE)
    expect(first.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(await first.text()).toBe('# HELP up x\n# TYPE up gauge\nup 1\n')
    // Rendered afresh on every scrape.
    expect(await (await fetch(server.url)).text()).toMatch(/up 2\n$/)
    expect(await (await fetch(`${server.url}?name[]=up`)).text()).toMatch(/up 3\n$/)
  })

  it('awaits an asynchronous render', async () => {
    const server = await serve(':0', async () => {
      await new Promise((resolve) => setImmediate(resolve))
      return 'late 1\n'
    })
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(await (await fetch(`http://${server.address}/metrics`)).text()).toBe('late 1\n')
  })

  it('answers 404 anywhere else, and 405 to other methods on /metrics', async () => {
    const server = await serve('127.0.0.1:0', () => 'x 1\n')
    for (const path of ['/', '/metric', '/metrics/', '/favicon.ico', '/metrics.txt']) {
      const response = await fetch(`http://${server.address}${path}`)
      expect(response.status, path).toBe(404)
      await response.text()
    }
    const post = await fetch(server.url, { method: 'POST', body: 'x' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    await post.text()
    const head = await fetch(server.url, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })

  it('answers 500 with the reason when rendering fails', async () => {
    const server = await serve('127.0.0.1:0', () => {
      throw new Error('redis is down')
    })
    const response = await fetch(server.url)
    expect(response.status).toBe(500)
    expect(await response.text()).toMatch(/redis is down/)
  })

  it('listens on IPv6 loopback when asked', async (context) => {
    const probe = net.createServer()
    const ipv6 = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false))
      probe.listen(0, '::1', () => probe.close(() => resolve(true)))
    })
    if (!ipv6) return context.skip('this machine has no IPv6 loopback')
    const server = await serve('[::1]:0', () => 'six 1\n')
    expect(server.address).toMatch(/^\[::1\]:\d+$/)
    expect(await (await fetch(server.url)).text()).toBe('six 1\n')
  })

  it('reports an address in use, naming it', async () => {
    const blocker = net.createServer()
    blockers.push(blocker)
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as net.AddressInfo).port
    await expect(serveMetrics(`127.0.0.1:${port}`, () => '')).rejects.toThrow(
      `metrics address 127.0.0.1:${port} is already in use`,
    )
  })

  it('refuses a bad address before listening', async () => {
    await expect(serveMetrics('nonsense', () => '')).rejects.toBeInstanceOf(ListenAddressError)
  })

  it('closes while a scraper keeps its connection alive', async () => {
    const server = await serveMetrics('127.0.0.1:0', () => 'x 1\n')
    await (await fetch(server.url, { headers: { connection: 'keep-alive' } })).text()
    await server.close()
    await expect(fetch(server.url)).rejects.toThrow()
  })
})

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:9464', '127.0.0.1', 9464],
    [':9464', '127.0.0.1', 9464],
    ['9464', '127.0.0.1', 9464],
    ['0.0.0.0:9464', '0.0.0.0', 9464],
    ['localhost:80', 'localhost', 80],
    ['metrics.internal:9464', 'metrics.internal', 9464],
    ['[::1]:9464', '::1', 9464],
    ['[::]:9464', '::', 9464],
    ['[fe80::1%eth0]:9464', 'fe80::1%eth0', 9464],
    [' 10.0.0.5:9100 ', '10.0.0.5', 9100],
    ['127.0.0.1:0', '127.0.0.1', 0],
    [':65535', '127.0.0.1', 65535],
  ])('%j -> %s port %i', (text, host, port) => {
    expect(parseListen(text)).toEqual({ host, port })
  })

  it.each([
    ['', /expected PORT, :PORT, HOST:PORT/],
    ['   ', /expected PORT/],
    ['localhost', /no port/],
    ['127.0.0.1:', /"" is not a port number/],
    [':http', /"http" is not a port number/],
    [':-1', /"-1" is not a port number/],
    [':65536', /port 65536 is out of range/],
    [':9464x', /"9464x" is not a port number/],
    ['::1:9464', /IPv6 address in brackets/],
    ['[::1:9464', /missing "\]"/],
    ['[::1]', /a port must follow/],
    ['[::1]9464', /a port must follow/],
    ['[nothost]:9464', /is not an IPv6 address/],
    ['bad_host!:9464', /is not a host name or address/],
    ['http://127.0.0.1:9464', /without http:\/\/ or a path/],
    ['127.0.0.1:9464/metrics', /without http:\/\/ or a path/],
  ])('refuses %j', (text, message) => {
    const error = listenErrorOf(text)
    expect(error.message).toMatch(message)
    expect(error.message).toContain(`"${text}"`)
    expect(error.message).not.toContain('\n')
  })
})
