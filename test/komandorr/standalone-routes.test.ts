import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PLEX_TOKEN, jsonInit, startPlexApp, type PlexApp } from '../support/api-harness.js'
import { FRONTEND_ROUTES, type FrontendRoute } from '../support/komandorr-frontend-routes.js'

// Standalone (no KOMANDORR_URL): every route of the table of Komandorr's frontend, over real HTTP
// against the service with the Plex simulator as its server.

const NEEDS_KOMANDORR = new Set([
  'POST /api/settings',
  'POST /api/overseerr/users',
  'DELETE /api/overseerr/users/:id',
  'PUT /api/notifications/telegram',
  'POST /api/invites/',
  'PUT /api/invites/:id',
  'DELETE /api/invites/:id',
  'PUT /api/invites/users/:id/expiration',
  'DELETE /api/invites/users/:id',
  'POST /api/invites/users/:id/refresh',
  'POST /api/invites/redeem',
  'GET /api/oauth/plex/login',
  'GET /api/oauth/plex/check/:pinId',
  'POST /api/oauth/plex/redeem',
])
const AUTH_FROM_ENVIRONMENT = new Set(['POST /api/auth/toggle', 'POST /api/auth/update'])

/** What Komandorr answers while the integration is not configured (its `backend/app/api`). */
const NOT_CONFIGURED: Record<string, unknown> = {
  '/api/uploader/inprogress': { jobs: [], not_configured: true },
  '/api/uploader/failed_count': { count: 0, not_configured: true },
  '/api/uploader/queue': { files: [], not_configured: true },
  '/api/uploader/queue_stats': { count: 0, not_configured: true },
  '/api/uploader/completed': { jobs: [], total: 0, not_configured: true },
  '/api/uploader/completed_today_stats': { count: 0, not_configured: true },
  '/api/uploader/status': { connected: false, error: 'Not configured' },
  '/api/uploader/failed': { jobs: [], total: 0, not_configured: true },
  '/api/arr-activity/queue': {},
  '/api/arr-activity/queue/status': { instances: {}, combined: { totalCount: 0, errors: false, warnings: false } },
  '/api/arr-activity/system/status': {},
  '/api/arr-activity/history': {},
  '/api/vpn-proxy/containers': [],
  '/api/vpn-proxy/containers/vpn-info-batch': {},
  '/api/vpn-proxy/containers/dependents': [],
  '/api/vpn-proxy/status': { connected: false, error: 'Not configured' },
  '/api/vpn-proxy/monitoring/status': { configured: false },
  '/api/vpn-proxy/monitoring': {},
  '/api/vpn-proxy/monitoring/network-usage': {},
  '/api/posterizarr/status': { connected: false, error: 'Not configured' },
  '/api/posterizarr/dashboard': { not_configured: true },
  '/api/posterizarr/scheduler': { not_configured: true },
  '/api/posterizarr/runtime-history': { not_configured: true, runs: [] },
  '/api/posterizarr/assets/stats': { not_configured: true },
  '/api/posterizarr/plex-export/statistics': { not_configured: true },
  '/api/invites/': [],
  '/api/invites/stats': {
    total_invites: 0,
    active_invites: 0,
    used_up_invites: 0,
    total_redemptions: 0,
    total_users: 0,
    active_users: 0,
  },
  '/api/invites/tmdb/api-key': { api_key: '' },
  '/api/overseerr/users': { success: true, users: [], total: 0 },
  '/api/overseerr/requests': { requests: [], total: 0 },
}

/** The fields the frontend reads from the core answers. */
const KEYS: Record<string, readonly string[]> = {
  '/api/auth/status': ['enabled'],
  '/api/health': ['status', 'version', 'services_count'],
  '/api/version': ['local', 'remote', 'is_update_available'],
  '/api/config': ['timezone'],
  '/api/traffic/summary': [
    'total_services',
    'services_with_traffic',
    'total_bandwidth_up',
    'total_bandwidth_down',
    'total_traffic_up',
    'total_traffic_down',
    'services',
  ],
  '/api/storage/summary': [
    'total_services',
    'services_with_storage',
    'total_capacity',
    'total_used',
    'total_free',
    'average_usage_percent',
    'total_raid_arrays',
    'healthy_raids',
    'degraded_raids',
    'failed_raids',
    'unmounted_paths',
  ],
  '/api/settings': ['logging', 'general', 'api', 'plex', 'uploader', 'vpn_proxy', 'posterizarr', 'external_apps'],
  '/api/overseerr/status': ['configured', 'reachable', 'message'],
  '/api/notifications/telegram': ['telegram'],
  '/api/invites/plex/config': ['servers', 'libraries'],
  '/api/releases': ['success'],
}

let app: PlexApp
let serviceId: string
beforeAll(async () => {
  app = await startPlexApp()
  const created = await app.fetch(
    '/api/services/',
    jsonInit('POST', { name: 'Sonarr', url: `${app.sim.url}/identity`, type: 'app' }),
  )
  expect(created.status).toBe(201)
  serviceId = ((await created.json()) as { id: string }).id
})
afterAll(async () => app?.close())

const key = (route: FrontendRoute) => `${route.method} ${route.path}`
const pathOf = (route: FrontendRoute) => route.example.split('?', 1)[0]!

/** The request the frontend would send for a click, with a body where it sends one. */
function requestFor(route: FrontendRoute): { url: string; init: RequestInit } {
  const url = route.example.replace('{id}', serviceId)
  const bodies: Record<string, unknown> = {
    'POST /api/services/': { name: 'Radarr', url: `${app.sim.url}/identity`, type: 'app' },
    'PUT /api/services/:id': { name: 'Sonarr 4' },
    'POST /api/plex/stats/peak': { peak_concurrent: 2 },
    'POST /api/plex/config': { url: app.sim.url, token: PLEX_TOKEN },
    'POST /api/plex/validate': { url: app.sim.url, token: PLEX_TOKEN },
    'POST /api/settings': { general: { timezone: 'Europe/Berlin' } },
    'POST /api/invites/': { usage_limit: 1 },
    'POST /api/invites/redeem': { code: 'ABCD1234', email: 'a@example.com' },
    'POST /api/auth/toggle': { enabled: true },
  }
  if (route.method === 'GET' || route.method === 'DELETE') return { url, init: { method: route.method } }
  if (key(route) === 'POST /api/upload-icon') {
    const form = new FormData()
    form.append('file', new Blob([Buffer.from('89504e470d0a1a0a', 'hex')], { type: 'image/png' }), 'icon.png')
    return { url, init: { method: 'POST', body: form } }
  }
  return { url, init: jsonInit(route.method, bodies[key(route)] ?? {}) }
}

describe('standalone: every route of the frontend table (no KOMANDORR_URL)', () => {
  it('answers every GET the frontend makes: never 404, Komandorr’s not-configured bodies, the fields it reads', async () => {
    const gets = FRONTEND_ROUTES.filter((route) => route.method === 'GET' && !NEEDS_KOMANDORR.has(key(route)))
    expect(gets.length).toBeGreaterThan(50)
    for (const route of gets) {
      const response = await app.fetch(route.example)
      const label = `${route.method} ${route.example}`
      expect(response.status, label).toBe(200)
      const path = pathOf(route)
      if (path === '/api/plex/proxy/image') {
        await response.arrayBuffer()
        continue
      }
      const body: unknown = await response.json()
      if (path in NOT_CONFIGURED) expect(body, label).toEqual(NOT_CONFIGURED[path])
      for (const field of KEYS[path] ?? []) expect(body, `${label}: ${field}`).toHaveProperty(field)
    }
  })

  it('answers every write and click: done, or a 409 whose detail names KOMANDORR_URL', async () => {
    // The service's own writes go last in this order: DELETE /api/services/:id removes the service.
    const writes = FRONTEND_ROUTES.filter((route) => route.method !== 'GET' || NEEDS_KOMANDORR.has(key(route)))
    const ordered = [
      ...writes.filter((r) => key(r) !== 'DELETE /api/services/:id'),
      ...writes.filter((r) => key(r) === 'DELETE /api/services/:id'),
    ]
    for (const route of ordered) {
      const { url, init } = requestFor(route)
      const response = await app.fetch(url, init)
      const label = `${key(route)} (${response.status})`
      expect(response.status, label).not.toBe(404)
      if (NEEDS_KOMANDORR.has(key(route))) {
        expect(response.status, label).toBe(409)
        expect(((await response.json()) as { detail: string }).detail, label).toContain('KOMANDORR_URL')
      } else if (AUTH_FROM_ENVIRONMENT.has(key(route))) {
        expect(response.status, label).toBe(409)
        expect(((await response.json()) as { detail: string }).detail, label).toContain('ENABLE_AUTH')
      } else {
        expect(response.status, label).toBeGreaterThanOrEqual(200)
        expect(response.status, label).toBeLessThan(300)
        await response.arrayBuffer()
      }
    }
  })

  it('shows the Plex server in settings without its token, and no invite code validates', async () => {
    const settings = await app.fetch('/api/settings')
    const text = await settings.text()
    expect(text).not.toContain(PLEX_TOKEN)
    const body = JSON.parse(text) as { plex: { server_url: string; server_token: string } }
    expect(body.plex).toMatchObject({ server_url: app.sim.url, server_token: '' })

    const validate = await app.fetch('/api/invites/validate?code=ABCD1234', { method: 'POST' })
    expect(await validate.json()).toMatchObject({ valid: false, invite: null })
    const noCode = await app.fetch('/api/invites/validate', { method: 'POST' })
    expect(noCode.status).toBe(400)
    expect(((await noCode.json()) as { detail: string }).detail).toContain('code')
  })
})
