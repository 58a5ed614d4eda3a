import http from 'node:http'
import type { AddressInfo } from 'node:net'

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
export const DEFAULT_METRICS_HOST = '127.0.0.1'
const EXAMPLE = 'expected PORT, :PORT, HOST:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9464'

// Bad input to the listen address; exit 2 like every usage error in rpd.
export class ListenAddressError extends Error {
  readonly exit = 2
  constructor(message: string) {
    super(message)
    this.name = 'ListenAddressError'
  }
}

export interface ListenAddress {
  host: string
  port: number
}

export interface MetricsServer {
  // Where it listens, as HOST:PORT ([IPv6]:PORT), with the real port when 0 was asked for.
  address: string
  url: string
  close(): Promise<void>
}

// Reads a listen address; without a host it stays on loopback, so metrics are never exposed by accident.
export function parseListen(text: string): ListenAddress {
  const input = text.trim()
  const fail = (why: string) => new ListenAddressError(`metrics address "${text}": ${why}`)
  if (input === '') throw fail(EXAMPLE)
  if (input.includes('/')) throw fail('give HOST:PORT only, without http:// or a path (it serves /metrics)')
  let host: string
  let portText: string
  if (input.startsWith('[')) {
    const close = input.indexOf(']')
    if (close < 0) throw fail(`missing "]" after the IPv6 address; ${EXAMPLE}`)
    host = input.slice(1, close)
    if (!/^[0-9a-fA-F:.]+(%[\w.-]+)?$/.test(host) || !host.includes(':'))
      throw fail(`"${host}" is not an IPv6 address; ${EXAMPLE}`)
    if (input[close + 1] !== ':') throw fail(`a port must follow "]", as in [::1]:9464`)
    portText = input.slice(close + 2)
  } else if (/^\d+$/.test(input)) {
    host = DEFAULT_METRICS_HOST
    portText = input
  } else {
    const colon = input.lastIndexOf(':')
    if (colon < 0) throw fail(`no port; ${EXAMPLE}`)
    host = input.slice(0, colon) || DEFAULT_METRICS_HOST
    portText = input.slice(colon + 1)
    if (host.includes(':')) throw fail('write an IPv6 address in brackets, as in [::1]:9464')
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host))
      throw fail(`"${host}" is not a host name or address`)
  }
  if (!/^\d+$/.test(portText)) throw fail(`"${portText}" is not a port number; ${EXAMPLE}`)
  const port = Number(portText)
  if (port > 65535) throw fail(`port ${port} is out of range (0-65535; 0 picks a free port)`)
  return { host, port }
}

export function formatListen(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

// Serves GET /metrics from render(); any other path is 404. Resolves once listening.
export async function serveMetrics(
  listen: string,
  render: () => Promise<string> | string,
): Promise<MetricsServer> {
  const wanted = parseListen(listen)
  const server = http.createServer((request, response) => {
    void answer(request, response, render)
  })
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(describeListenError(error, wanted))
    server.once('error', onError)
    server.listen(wanted.port, wanted.host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const bound = server.address() as AddressInfo
  const address = formatListen({ host: bound.address, port: bound.port })
  return {
    address,
    url: `http://${address}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // Keep-alive connections from a scraper would otherwise hold close() open.
        server.closeAllConnections()
      }),
  }
}

async function answer(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  render: () => Promise<string> | string,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]
  if (path !== '/metrics') return reply(response, 404, 'not found: the metrics are at /metrics\n')
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD')
    return reply(response, 405, 'use GET /metrics\n')
  }
  let body: string
  try {
    body = await render()
  } catch (error) {
    return reply(
      response,
      500,
      `rendering metrics failed: ${error instanceof Error ? error.message : String(error)}\n`,
    )
  }
  response.writeHead(200, {
    'Content-Type': METRICS_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
  })
  response.end(request.method === 'HEAD' ? undefined : body)
}

function reply(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  })
  response.end(text)
}

function describeListenError(error: NodeJS.ErrnoException, wanted: ListenAddress): Error {
  const where = formatListen(wanted)
  if (error.code === 'EADDRINUSE')
    return new Error(
      `metrics address ${where} is already in use; stop what listens there or choose another port`,
    )
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
    return new Error(
      `metrics address ${where} is not an address of this machine; use 127.0.0.1 or one of its own`,
    )
  if (error.code === 'EACCES')
    return new Error(`metrics address ${where}: permission denied; use a port above 1023`)
  return new Error(`metrics address ${where}: ${error.message}`)
}
