import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KOMANDORR_CACHES } from '../../src/features/caches/komandorr-caches.js'
import { startService, type TestApp } from '../support/api-harness.js'
import { FRONTEND_ROUTES } from '../support/komandorr-frontend-routes.js'
import { KomandorrStandIn } from './stand-in.js'

const ADMIN = { username: 'admin', password: 'frontend-table-secret' }
const BASIC = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`

/** What the service answers itself in front of Komandorr: Plex, its health, the Plex invite config. */
const owned = (path: string) =>
  path.startsWith('/api/plex/') || ['/api/downloads', '/api/health', '/api/invites/plex/config'].includes(path)
const VERDICT_PROBE = '/api/health'
const cachedPaths = new Set(KOMANDORR_CACHES.map((spec) => spec.path))

describe("every route Komandorr's frontend calls, in front of Komandorr (auth on)", () => {
  let komandorr: KomandorrStandIn
  let service: TestApp

  beforeAll(async () => {
    komandorr = await KomandorrStandIn.start({ auth: ADMIN })
    service = await startService({ env: { KOMANDORR_URL: komandorr.url, LOG_LEVEL: 'info' } })
  })
  afterAll(async () => {
    await service?.close()
    await komandorr?.close()
  })

  for (const route of FRONTEND_ROUTES) {
    const url = route.example.replaceAll('{id}', 'svc-1')
    const path = url.split('?')[0]!
    const kind = owned(path)
      ? 'is answered by the service'
      : route.method === 'GET' && cachedPaths.has(url)
        ? 'is cached'
        : 'passes through'
    it(`${route.method} ${url} ${kind}`, async () => {
      komandorr.reset()
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : JSON.stringify({ from: url })
      const response = await fetch(service.url + url, {
        method: route.method,
        headers: { authorization: BASIC, 'content-type': 'application/json', 'x-frontend': 'komandorr' },
        body,
      })
      const text = await response.text()
      const reached = komandorr.received.filter((r) => r.url.split('?')[0] === path)
      if (kind === 'is answered by the service') {
        expect(response.status, text).not.toBe(404)
        expect(text).not.toContain('"generation"')
        // The one request the service may send about it: asking Komandorr about the credentials.
        expect(reached.filter((r) => !(r.method === 'GET' && r.url === VERDICT_PROBE))).toEqual([])
      } else if (kind === 'is cached') {
        expect(response.status, text).toBe(200)
        const answer =
          path === '/api/auth/status' ? { enabled: true } : { path, query: '', generation: komandorr.generation }
        expect(JSON.parse(text)).toEqual(answer)
        expect(response.headers.get('x-cache')).toMatch(/^(MISS|HIT)$/)
      } else {
        expect(response.status, text).toBe(200)
        expect(reached).toHaveLength(1)
        const [received] = reached
        expect(received!.method).toBe(route.method)
        expect(received!.url).toBe(url)
        expect(received!.body).toBe(body ?? '')
        expect(received!.headers.authorization).toBe(BASIC)
        expect(received!.headers['x-frontend']).toBe('komandorr')
      }
    })
  }
})
