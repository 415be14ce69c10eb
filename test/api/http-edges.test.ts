import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, jsonInit, type TestApp, startService } from '../support/api-harness.js'
import { rawExchange } from './raw-socket.js'

describe('4xx answers made by Fastify or Node itself carry detail', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startService()
  })
  afterAll(async () => {
    await t.close()
  })

  const host = () => `Host: ${new URL(t.url).host}\r\n`

  it.each([
    ['a path with bad percent-encoding', '/api/services/%FF', 400],
    ['a path segment over the parameter limit', `/api/services/${'a'.repeat(150)}`, 414],
    ['an unknown path', '/api/nothing-here', 404],
  ])('answers %s with its status and {detail, message}', async (_label, path, status) => {
    const response = await fetch(`${t.url}${path}`)
    expect(response.status).toBe(status)
    const body = await json(response)
    expect(body.detail).toBeTypeOf('string')
    expect(body.detail.length).toBeGreaterThan(10)
    if (status !== 404) expect(body.message).toBe(body.detail)
  })

  it.each([
    ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', 400],
    ['an unknown HTTP version', 'GET /api/health HTTP/9.9\r\n', 400],
    ['a Content-Length that is not a number', 'POST /api/services/ HTTP/1.1\r\n{host}Content-Length: abc\r\n\r\n', 400],
    [
      'two Content-Lengths',
      'POST /api/services/ HTTP/1.1\r\n{host}Content-Length: 1\r\nContent-Length: 2\r\n\r\n',
      400,
    ],
    ['a header name with a space', 'GET /api/health HTTP/1.1\r\n{host}Bad Header: x\r\n\r\n', 400],
    ['a control character in a header value', 'GET /api/health HTTP/1.1\r\n{host}X-A: a\u0001b\r\n\r\n', 400],
    [
      'a chunk size that is not hex',
      'POST /api/services/ HTTP/1.1\r\n{host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      400,
    ],
    [
      'Transfer-Encoding and Content-Length together',
      'POST /api/services/ HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['an Expect other than 100-continue', 'GET /api/health HTTP/1.1\r\n{host}Expect: teapot\r\n\r\n', 417],
    ['an HTTP/2 preface without TLS', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400],
    ['headers over 16 KiB', `GET /api/health HTTP/1.1\r\n{host}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a URL over 16 KiB', `GET /api/health?${'q'.repeat(20_000)} HTTP/1.1\r\n{host}\r\n`, 431],
  ])('answers %s on the raw socket with its status and {detail, message}', async (_label, request, status) => {
    const exchange = await rawExchange(t.url, [request.replace('{host}', host())])
    expect(exchange.status, exchange.text.slice(0, 200)).toBe(status)
    expect(exchange.body?.detail).toBeTypeOf('string')
    expect(exchange.body?.message).toBe(exchange.body?.detail)
  })

  it('answers bad JSON, a wrong content type and a body over the limit with detail', async () => {
    const cases: Array<[RequestInit, number]> = [
      [jsonInit('POST', '{"name": '), 400],
      [{ method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<a/>' }, 415],
      [jsonInit('POST', { name: 'x'.repeat(1_100_000) }), 413],
      [{ method: 'POST', headers: { 'content-type': 'application/json; charset=utf-16' }, body: '{}' }, 400],
    ]
    for (const [init, status] of cases) {
      const response = await fetch(`${t.url}/api/services/`, init)
      expect(response.status).toBe(status)
      expect((await json(response)).detail).toBeTypeOf('string')
    }
  })
})

describe('slow clients are timed out', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startService({
      env: { HTTP_HEADERS_TIMEOUT: '1', HTTP_REQUEST_TIMEOUT: '2', HTTP_KEEP_ALIVE_TIMEOUT: '1' },
    })
  })
  afterAll(async () => {
    await t.close()
  })

  it('closes a connection whose headers never end, within the headers timeout (+ the 1 s check)', async () => {
    const exchange = await rawExchange(t.url, ['GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: '], 6_000)
    expect(exchange.closedAfterMs).toBeDefined()
    expect(exchange.closedAfterMs!).toBeLessThan(3_000)
    expect(exchange.status).toBe(408)
    expect(exchange.body?.detail).toBeTypeOf('string')
  })

  it('closes a connection that sent its headers and part of its body, within the request timeout (+ the 1 s check)', async () => {
    const head =
      'POST /api/services/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n'
    const exchange = await rawExchange(t.url, [head, '{"name":'], 6_000)
    expect(exchange.closedAfterMs).toBeDefined()
    expect(exchange.closedAfterMs!).toBeGreaterThan(1_500)
    expect(exchange.closedAfterMs!).toBeLessThan(4_000)
    expect(exchange.body?.detail ?? exchange.text).toBeTruthy()
    expect(await t.runtime.repos.services.count()).toBe(0)
  })

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const exchange = await rawExchange(t.url, ['GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n'], 6_000)
    expect(exchange.status).toBe(200)
    expect(exchange.text).toMatch(/Keep-Alive: timeout=1/i)
    expect(exchange.closedAfterMs).toBeDefined()
    expect(exchange.closedAfterMs!).toBeLessThan(2_500)
  })
})
