import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startService, type TestApp } from '../support/api-harness.js'
import { rawExchange } from './raw-socket.js'

// Short limits, so that the test takes seconds: HTTP_HEADERS_TIMEOUT 1 s, HTTP_REQUEST_TIMEOUT 3 s.
// Node checks them every second (connectionsCheckingInterval): a cut comes up to 1 s late.
const HEADERS_MS = 1_000
const REQUEST_MS = 3_000
const CHECK_MS = 1_000
const CONNECTIONS = 20

const postHead = (contentLength: number) =>
  `POST /api/services/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`

/** Writes `first`, then one byte every `everyMs`, until the server closes; ms to the close and what came back. */
function trickle(
  url: string,
  first: string,
  everyMs: number,
  giveUpMs: number,
): Promise<{ closedAfterMs?: number; text: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    const started = performance.now()
    let text = ''
    const timer = setInterval(() => socket.write('a'), everyMs)
    const finish = (closedAfterMs?: number) => {
      clearInterval(timer)
      clearTimeout(giveUp)
      socket.destroy()
      resolve({ closedAfterMs, text })
    }
    const giveUp = setTimeout(() => finish(undefined), giveUpMs)
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
    socket.on('error', () => undefined)
    socket.on('close', () => finish(performance.now() - started))
    socket.on('connect', () => socket.write(first))
  })
}

describe('slow requests are cut at the promised timeouts', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startService({
      env: {
        HTTP_HEADERS_TIMEOUT: String(HEADERS_MS / 1000),
        HTTP_REQUEST_TIMEOUT: String(REQUEST_MS / 1000),
        HTTP_KEEP_ALIVE_TIMEOUT: '5',
      },
    })
  })
  afterAll(() => t.close())

  it(`closes ${CONNECTIONS} connections whose headers stall at HTTP_HEADERS_TIMEOUT, not at the request timeout`, async () => {
    const exchanges = await Promise.all(
      Array.from({ length: CONNECTIONS }, () =>
        rawExchange(t.url, ['GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: '], REQUEST_MS + 3_000),
      ),
    )
    for (const exchange of exchanges) {
      expect(exchange.status).toBe(408)
      expect(exchange.body?.detail).toContain('did not arrive whole in time')
      expect(exchange.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_MS - 50)
      expect(exchange.closedAfterMs!).toBeLessThan(HEADERS_MS + CHECK_MS + 500)
    }
  })

  it(`closes ${CONNECTIONS} connections that sent the headers and 9 of 1,000 body bytes at HTTP_REQUEST_TIMEOUT`, async () => {
    const exchanges = await Promise.all(
      Array.from({ length: CONNECTIONS }, () =>
        rawExchange(t.url, [postHead(1_000), '{"name":"'], REQUEST_MS + CHECK_MS + 3_000),
      ),
    )
    for (const exchange of exchanges) {
      expect(exchange.status).toBe(408)
      expect(exchange.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_MS - 50)
      expect(exchange.closedAfterMs!).toBeLessThan(REQUEST_MS + CHECK_MS + 500)
    }
    expect(await t.runtime.repos.services.count()).toBe(0)
  })

  it('closes a connection whose body trickles in a byte at a time at HTTP_REQUEST_TIMEOUT', async () => {
    const result = await trickle(t.url, `${postHead(1_000)}{"name":"`, 200, REQUEST_MS + CHECK_MS + 3_000)
    expect(result.text).toMatch(/^HTTP\/1\.1 408 /)
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_MS - 50)
    expect(result.closedAfterMs!).toBeLessThan(REQUEST_MS + CHECK_MS + 500)
  })

  it('closes a connection whose headers trickle in a byte at a time at HTTP_HEADERS_TIMEOUT', async () => {
    const result = await trickle(t.url, 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ', 200, REQUEST_MS + 3_000)
    expect(result.text).toMatch(/^HTTP\/1\.1 408 /)
    expect(result.closedAfterMs!).toBeLessThan(HEADERS_MS + CHECK_MS + 500)
  })
})
