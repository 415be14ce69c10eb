import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { startTarget, type TestApp, startService } from '../support/api-harness.js'

interface Operation {
  summary?: string
  parameters?: Array<{ in: string; name: string }>
  requestBody?: unknown
  responses: Record<string, { content?: Record<string, { schema: object }> }>
}
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>> }

const TOKEN = 'openapi-sim-token-4242'

let sim: RunningSimulator | undefined
let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  await sim?.close()
  app = sim = undefined
})

const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/

/** `/api/services/:id` → `/api/services/{id}`. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

describe('GET /openapi.json and /docs', () => {
  it('documents every route with a summary, its inputs and its responses, and every answer validates against its schema', async () => {
    const routes: Array<{ method: string; url: string }> = []
    sim = await startSimulator({ port: 0, token: TOKEN, seed: 1, items: 300, speed: 0, liveSessions: false })
    app = await startService({
      env: { PLEX_SERVER_URL: sim.url, PLEX_SERVER_TOKEN: TOKEN, PLEX_TV_URL: sim.url, LOG_LEVEL: 'info' },
      runtime: {
        beforeListen: (fastify) =>
          fastify.addHook('onRoute', (route) => {
            for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url })
          }),
      },
    })
    const setup = { sim, fetch: (path: string, init?: RequestInit) => fetch(app!.url + path, init) }
    const spec = (await (await setup.fetch('/openapi.json')).json()) as OpenApi
    expect(spec.openapi).toBe('3.1.0')

    const documented = routes.filter(
      ({ method, url }) => method !== 'HEAD' && !url.startsWith('/docs') && url !== '/openapi.json',
    )
    expect(documented.length).toBeGreaterThan(30)
    for (const { method, url } of documented) {
      const operation = spec.paths[openApiPath(url)]?.[method.toLowerCase()]
      expect(operation, `${method} ${url}`).toBeDefined()
      expect(operation!.summary, `${method} ${url}`).toBeTruthy()
      const success = Object.entries(operation!.responses).filter(([status]) => /^2\d\d$/.test(status))
      expect(success.length, `${method} ${url}: a 2xx response`).toBeGreaterThan(0)
      if (url.includes(':'))
        expect(
          operation!.parameters?.some((p) => p.in === 'path'),
          `${method} ${url}: path parameters`,
        ).toBe(true)
    }

    // Every answer of a run against the simulator, checked against the schema of its route and status.
    const ajv = new Ajv2020({ strict: false, allErrors: true, formats: { 'date-time': DATE_TIME, binary: true } })
    const checked = new Set<string>()
    const check = async (method: string, route: string, path: string, init: RequestInit = {}) => {
      const response = await setup.fetch(path, { method, ...init })
      // Read every body: an unread one keeps its connection busy and the server from closing.
      const text = await response.text()
      const operation = spec.paths[openApiPath(route)]![method.toLowerCase()]!
      const status = String(response.status)
      const documentedResponse = operation.responses[status] ?? operation.responses[`${status[0]}XX`]
      expect(documentedResponse, `${method} ${path} answered ${status}, which is not documented`).toBeDefined()
      const type = (response.headers.get('content-type') ?? '').split(';')[0]!
      if (response.status === 204 || response.status === 304) return
      const schema = documentedResponse!.content?.['application/json']?.schema
      if (type !== 'application/json' || schema === undefined) {
        expect(
          Object.keys(documentedResponse!.content ?? {}).some((t) => t === type || t.endsWith('/*')),
          `${method} ${path}: ${type}`,
        ).toBe(true)
        return
      }
      const body: unknown = JSON.parse(text)
      const validate = ajv.compile(schema)
      expect(validate(body) ? [] : validate.errors, `${method} ${path} (${status})`).toEqual([])
      checked.add(`${method} ${route}`)
    }

    const { control } = setup.sim
    control.startSession({ kind: 'episode', transcode: true })
    control.startSession({ kind: 'movie', transcode: false, paused: true })
    const monitored = await startTarget((_req, res) => void res.writeHead(200).end('ok'))
    try {
      for (const path of [
        '/api/plex/sessions',
        '/api/plex/sessions',
        '/api/plex/activities',
        '/api/downloads',
        '/api/plex/stats/live',
        '/api/plex/media/recent',
        '/api/plex/users/count',
        '/api/invites/plex/config',
        '/api/plex/transcode/sessions',
      ]) {
        await check('GET', path, path)
      }
      await check('POST', '/api/plex/watch-history/sync', '/api/plex/watch-history/sync')
      await check('GET', '/api/plex/watch-history', '/api/plex/watch-history?limit=5')
      await check('GET', '/api/plex/watch-history', '/api/plex/watch-history?limit=0')
      await check('GET', '/api/plex/stats', '/api/plex/stats')
      await check('POST', '/api/plex/stats/peak', '/api/plex/stats/peak', {
        headers: { 'content-type': 'application/json' },
        body: '{"peak_concurrent": 3}',
      })
      await check('POST', '/api/plex/stats/reset', '/api/plex/stats/reset')
      await check('GET', '/api/plex/stats/dashboard', '/api/plex/stats/dashboard')
      await check('GET', '/api/plex/config', '/api/plex/config')
      await check('POST', '/api/plex/validate', '/api/plex/validate', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: setup.sim.url, token: 'wrong-token-123456' }),
      })
      await check('POST', '/api/plex/config', '/api/plex/config', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'not a url', token: 'x' }),
      })
      await check(
        'GET',
        '/api/plex/proxy/image',
        `/api/plex/proxy/image?url=${encodeURIComponent('/library/metadata/1/thumb/1')}`,
      )
      await check('GET', '/api/plex/cache/stats', '/api/plex/cache/stats')
      await check('GET', '/api/plex/cache/history', '/api/plex/cache/history')
      await check('POST', '/api/plex/cache/warm', '/api/plex/cache/warm')
      await check('POST', '/api/plex/cache/clear', '/api/plex/cache/clear')
      await check('POST', '/api/plex/cache/clear', '/api/plex/cache/clear?viewer=nobody')
      await check('GET', '/api/viewers', '/api/viewers')
      await check('POST', '/api/viewers', '/api/viewers', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'ann', password: 'a long password', plex_account_id: 2 }),
      })
      await check('DELETE', '/api/viewers/:username', '/api/viewers/nobody')
      await check('GET', '/api/health', '/api/health')
      await check('GET', '/api/auth/status', '/api/auth/status')
      const created = await setup.fetch('/api/services/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Sonarr', url: monitored.url, type: 'app' }),
      })
      expect(created.status).toBe(201)
      const { id } = (await created.json()) as { id: string }
      await check('GET', '/api/services/', '/api/services/')
      await check('GET', '/api/services/:id', `/api/services/${id}`)
      await check('GET', '/api/services/:id', '/api/services/missing')
      await check('PUT', '/api/services/:id', `/api/services/${id}`, {
        headers: { 'content-type': 'application/json' },
        body: '{"group": "media"}',
      })
      await check('POST', '/api/services/:id/check', `/api/services/${id}/check`)
      await check('POST', '/api/services/check-all', '/api/services/check-all')
      const traffic = { service_id: id, bandwidth_up: 1, bandwidth_down: 2, total_up: 3, total_down: 4 }
      await check('POST', '/api/traffic/update', '/api/traffic/update', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(traffic),
      })
      await check('GET', '/api/services/', '/api/services/')
      await check('DELETE', '/api/services/:id', `/api/services/${id}`)
      await check('GET', '/metrics', '/metrics')
      await check('GET', '/cache', '/cache')
      await check('GET', '/cache/assets/:file', '/cache/assets/uPlot.iife.min.js')
      await check('GET', '/cache/assets/:file', '/cache/assets/nope.js')
    } finally {
      await monitored.close()
    }
    expect(checked.size).toBeGreaterThan(25)

    // Swagger UI from the package's own assets.
    const docs = await setup.fetch('/docs/')
    expect(docs.status).toBe(200)
    const html = await docs.text()
    expect(html).toContain('swagger-ui')
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/)
    const script = html.match(/src="\.?\/?([^"]*swagger-ui-bundle\.js)"/)?.[1]
    expect(script).toBeDefined()
    const bundle = await setup.fetch(`/docs/${script!.replace(/^docs\//, '')}`)
    expect(bundle.status).toBe(200)
    expect((await bundle.text()).length).toBeGreaterThan(100_000)
  })
})
