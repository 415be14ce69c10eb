import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publicRoute } from '../../src/http/auth.js'
import { basic, json, jsonInit, type TestApp, startService } from '../support/api-harness.js'

const USER = 'admin'
const PASSWORD = 'correct horse battery'
const good = basic(USER, PASSWORD)
const wrong = basic(USER, 'Correct horse battery')

const validService = { name: 'Sonarr', url: 'http://127.0.0.1:9', type: 'app' }
const validTraffic = { service_id: 'x', bandwidth_up: 0, bandwidth_down: 0, total_up: 0, total_down: 0 }

/** Every mutating route of this layer, with a body it would accept. */
const mutating = (id: string): Array<[string, string, unknown?]> => [
  ['POST', '/api/services/', validService],
  ['PUT', `/api/services/${id}`, { name: 'renamed' }],
  ['DELETE', `/api/services/${id}`],
  ['POST', `/api/services/${id}/check`],
  ['POST', '/api/services/check-all'],
  ['POST', '/api/traffic/update', { ...validTraffic, service_id: id }],
  ['POST', '/api/test/open-get'],
]

// Komandorr's own paths answer in standalone mode (routes/komandorr-standalone*.ts): these have no route.
const unknownPaths = ['/api/nope', '/api/uploader/nope', '/api/storage/nope', '/api/vpn-proxy/nope/a/b']

describe('auth on', () => {
  let t: TestApp
  let id: string

  beforeAll(async () => {
    t = await startService({
      env: { ENABLE_AUTH: 'true', AUTH_USERNAME: USER, AUTH_PASSWORD: PASSWORD },
      runtime: {
        beforeListen(app) {
          app.get('/api/test/open-get', { config: publicRoute }, async () => ({ open: true }))
          app.post('/api/test/open-get', { config: publicRoute }, async () => ({ written: true }))
        },
      },
    })
    id = (
      await t.runtime.repos.services.insert(
        'svc-1',
        { ...validService, type: 'app', description: null, icon: null, group: null },
        0,
      )
    ).id
  })
  afterAll(() => t.close())

  const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, body === undefined ? { method, headers } : jsonInit(method, body, headers))

  it('refuses every mutating route without credentials or with a wrong password, and changes nothing', async () => {
    for (const [method, path, body] of mutating(id)) {
      for (const [label, headers] of [
        ['no credentials', {}],
        ['wrong password', wrong],
        ['not Basic', { authorization: 'Bearer abc' }],
      ] as const) {
        const response = await send(method, path, body, headers)
        expect(response.status, `${method} ${path} with ${label}`).toBe(401)
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic /)
        expect((await json(response)).detail).toBeTypeOf('string')
      }
    }
    expect((await t.runtime.repos.services.list()).map((s) => [s.id, s.name, s.lastCheckAt])).toEqual([
      [id, 'Sonarr', null],
    ])
    expect(await t.runtime.traffic.latest(id)).toBeUndefined()
  })

  it('accepts the right credentials on a mutating route', async () => {
    const response = await send('POST', '/api/traffic/update', { ...validTraffic, service_id: id }, good)
    expect(response.status).toBe(200)
  })

  it('protects reading the services list, HEAD included', async () => {
    expect((await send('GET', '/api/services/')).status).toBe(401)
    expect((await send('HEAD', '/api/services/')).status).toBe(401)
    expect((await send('HEAD', '/api/auth/status')).status).toBe(200)
    expect((await send('GET', '/api/services/', undefined, good)).status).toBe(200)
  })

  it('leaves the exempt GETs open: auth status and routes marked public', async () => {
    const status = await send('GET', '/api/auth/status')
    expect(status.status).toBe(200)
    expect(await json(status)).toEqual({ enabled: true })
    expect((await send('GET', '/api/test/open-get')).status).toBe(200)
    expect((await send('GET', '/api/test/open-get', undefined, wrong)).status).toBe(200)
  })

  it('keeps health open without credentials but rejects wrong ones (Komandorr logs in against it)', async () => {
    expect((await send('GET', '/api/health')).status).toBe(200)
    expect((await send('GET', '/api/health', undefined, good)).status).toBe(200)
    const refused = await send('GET', '/api/health', undefined, wrong)
    expect(refused.status).toBe(401)
    expect((await json(refused)).detail).toBe('Invalid username or password')
  })

  it('answers 404, never 401, for unknown /api paths, with or without credentials', async () => {
    for (const path of unknownPaths) {
      for (const headers of [{}, good, wrong]) {
        const get = await send('GET', path, undefined, headers)
        expect(get.status, `GET ${path}`).toBe(404)
        expect((await json(get)).detail).toContain(path)
        expect((await send('POST', path, {}, headers)).status, `POST ${path}`).toBe(404)
      }
    }
  })

  it('answers a CORS preflight without asking for credentials', async () => {
    const response = await fetch(`${t.url}/api/services/`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:3000')
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type')
    expect(response.headers.get('access-control-allow-methods')).toContain('PUT')
  })

  it('gives a 401 the CORS headers a browser needs to read it, and none to an unlisted origin', async () => {
    const listed = await fetch(`${t.url}/api/services/`, { headers: { origin: 'http://localhost:3000' } })
    expect(listed.status).toBe(401)
    expect(listed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000')
    const unlisted = await fetch(`${t.url}/api/auth/status`, { headers: { origin: 'http://evil.example' } })
    expect(unlisted.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('auth off', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await startService({ env: { ENABLE_AUTH: 'false' } })
  })
  afterAll(() => t.close())

  it('lets mutating routes through without credentials and says auth is disabled', async () => {
    const created = await fetch(`${t.url}/api/services/`, jsonInit('POST', validService))
    expect(created.status).toBe(201)
    expect(await json(await fetch(`${t.url}/api/auth/status`))).toEqual({ enabled: false })
    expect((await fetch(`${t.url}/api/health`, { headers: wrong })).status).toBe(200)
  })

  it('still answers 404 for unknown /api paths', async () => {
    for (const path of unknownPaths) expect((await fetch(`${t.url}${path}`, { headers: good })).status).toBe(404)
  })
})
