import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { ManualClock } from '../../src/cache/index.js'
import { PLEX_TOKEN, startService } from '../support/api-harness.js'
import { basic, type TestApp } from '../support/api-harness.js'
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js'

// The same app twice on one simulator and one manual clock: at log level info cache hits take
// the fast path in front of Fastify, at debug every request goes through Fastify (it logs each).
// Every answer must be the same, byte for byte, but for the Date header.

const USER = 'admin'
const PASSWORD = 'correct horse battery'
const ALLOWED = 'http://dash.example'

let sim: RunningSimulator
let fast: TestApp
let routed: TestApp
/** Requests that reached Fastify's hooks, per app. */
const throughFastify = new Map<TestApp, number>()

beforeAll(async () => {
  sim = await startSimulator({ port: 0, token: PLEX_TOKEN, seed: 3, items: 300, speed: 0 })
  const clock = new ManualClock({ now: 1_000_000 })
  const env = {
    PLEX_SERVER_URL: sim.url,
    PLEX_SERVER_TOKEN: PLEX_TOKEN,
    PLEX_TV_URL: sim.url,
    ENABLE_AUTH: 'true',
    AUTH_USERNAME: USER,
    AUTH_PASSWORD: PASSWORD,
    CORS_ORIGINS: ALLOWED,
  }
  let counting: { n: number } | undefined
  const counter = {
    beforeListen(app: import('fastify').FastifyInstance) {
      const box = { n: 0 }
      counting = box
      app.addHook('onRequest', (_request, _reply, done) => {
        box.n++
        done()
      })
    },
  }
  fast = await startService({ env: { ...env, LOG_LEVEL: 'info' }, runtime: { clock, ...counter } })
  const fastCount = counting!
  routed = await startService({ env: { ...env, LOG_LEVEL: 'debug' }, runtime: { clock, ...counter } })
  const routedCount = counting!
  Object.defineProperty(throughFastify, 'get', {
    value: (app: TestApp) => (app === fast ? fastCount.n : routedCount.n),
  })
  // Fill both caches at the same manual time: same fetchedAt, same age from here on.
  for (const app of [fast, routed]) {
    for (const path of ['/api/plex/sessions', '/api/plex/activities', '/api/plex/stats/live']) {
      expect((await fetch(app.url + path, { headers: basic(USER, PASSWORD) })).status).toBe(200)
    }
  }
  await clock.advance(1_300)
})

afterAll(async () => {
  await fast?.close()
  await routed?.close()
  await sim?.close()
})

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

async function get(app: TestApp, path: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(app.url + path, { headers })
  const all: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'date') all[name] = value
  })
  return { status: response.status, headers: all, body: await response.text() }
}

const good = basic(USER, PASSWORD)

describe('cache hits answered in front of Fastify', () => {
  it('answer exactly what Fastify answers: auth, CORS, cache headers, body', async () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['a hit', '/api/plex/sessions', good],
      ['a hit with a trailing slash and a query', '/api/plex/sessions/?x=1', good],
      ['the older activities path', '/api/downloads', good],
      ['an allowed origin', '/api/plex/activities', { ...good, origin: ALLOWED }],
      ['another origin', '/api/plex/activities', { ...good, origin: 'http://elsewhere.example' }],
      ['a public route without credentials', '/api/plex/stats/live', {}],
      ['no credentials', '/api/plex/sessions', {}],
      ['a wrong password', '/api/plex/sessions', basic(USER, 'wrong')],
      ['not Basic', '/api/plex/sessions', { authorization: 'Bearer abc' }],
    ]
    for (const [what, path, headers] of cases) {
      const viaFastify = await get(routed, path, headers)
      const viaFastPath = await get(fast, path, headers)
      expect(viaFastPath, what).toEqual(viaFastify)
    }
    const hit = await get(fast, '/api/plex/sessions', { ...good, origin: ALLOWED })
    expect(hit.headers).toMatchObject({
      'x-cache': 'HIT',
      age: '1',
      'access-control-allow-origin': ALLOWED,
      vary: 'Origin',
    })
    expect(JSON.parse(hit.body)).toMatchObject({ cached: true, cache_age: 1.3, error: false })
  })

  it('only hits skip Fastify: refused credentials, conditional requests and other methods still go through it', async () => {
    const before = throughFastify.get(fast)!
    await get(fast, '/api/plex/sessions', good)
    await get(fast, '/api/plex/activities', { ...good, origin: ALLOWED })
    expect(throughFastify.get(fast), 'two hits, no hook run').toBe(before)

    const etag = (await get(fast, '/api/plex/sessions', good)).headers.etag!
    const conditional = await get(fast, '/api/plex/sessions', { ...good, 'if-none-match': etag })
    expect(conditional.status).toBe(304)
    expect((await fetch(fast.url + '/api/plex/sessions', { method: 'HEAD', headers: good })).status).toBe(200)
    expect(throughFastify.get(fast)).toBe(before + 2)
    // Fastify's auth hook answers it (and so runs before the counting hook, which it ends).
    const refused = await get(fast, '/api/plex/sessions', {})
    expect(refused.status).toBe(401)
    expect(refused.headers['www-authenticate']).toMatch(/^Basic /)
    expect(throughFastify.get(routed)! > 0, 'at debug level every request goes through Fastify').toBe(true)
  })

  it("counts a hit it answers in /metrics, as Fastify counts one: the route's request histogram and the cache's hits", async () => {
    const route = { method: 'GET', route: '/api/plex/sessions', status_class: '2xx' }
    const scrape = async () => {
      const response = await fetch(fast.url + '/metrics', { headers: good })
      expect(response.status).toBe(200)
      const samples = parsePrometheusText(await response.text())
      return {
        requests: sampleValue(samples, 'http_request_duration_seconds_count', route),
        underAMillisecond: sampleValue(samples, 'http_request_duration_seconds_bucket', { ...route, le: '0.001' }),
        all: sampleValue(samples, 'http_request_duration_seconds_bucket', { ...route, le: '+Inf' }),
        seconds: sampleValue(samples, 'http_request_duration_seconds_sum', route),
        cacheHits: sampleValue(samples, 'cache_requests_total', { cache: 'plex_sessions', result: 'hit' }),
      }
    }
    const before = await scrape()
    const hooksBefore = throughFastify.get(fast)!
    for (const path of ['/api/plex/sessions', '/api/plex/sessions/?x=1', '/api/plex/sessions']) {
      expect((await get(fast, path, good)).headers['x-cache']).toBe('HIT')
    }
    expect(throughFastify.get(fast), 'three hits on the fast path').toBe(hooksBefore)
    const after = await scrape()
    expect(after.requests - before.requests).toBe(3)
    expect(after.all - before.all).toBe(3)
    expect(after.seconds).toBeGreaterThan(before.seconds)
    expect(after.underAMillisecond).toBeLessThanOrEqual(after.all)
    expect(after.cacheHits - before.cacheHits).toBe(3)
  })
})
