import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { komandorrStandaloneRoutes } from '../../src/http/routes/komandorr-standalone.js'
import type { StandaloneDeps } from '../../src/http/routes/komandorr-standalone-deps.js'
import { basic, jsonInit, type TestApp, startService } from '../support/api-harness.js'

const AUTH = { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'standalone-pw-1' }
const ADMIN = basic('admin', 'standalone-pw-1')

let app: TestApp | undefined
const folders: string[] = []
afterEach(async () => {
  await app?.close()
  app = undefined
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

const call = (path: string, init?: RequestInit) => fetch(app!.url + path, init)

async function createService(headers: Record<string, string> = {}): Promise<string> {
  // A closed port: the monitor finds it down, which is all a service needs to be for these tests.
  const response = await call(
    '/api/services/',
    jsonInit('POST', { name: 'NAS', url: 'http://127.0.0.1:9', type: 'app' }, headers),
  )
  expect(response.status).toBe(201)
  return ((await response.json()) as { id: string }).id
}

/** A WebSocket client that queues every message it receives. */
async function openSocket(url: string) {
  const socket = new WebSocket(url)
  const messages: unknown[] = []
  const waiters: Array<() => void> = []
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)))
    waiters.splice(0).forEach((wake) => wake())
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  return {
    socket,
    // A summary is asserted field by field; typing it would only repeat the assertions.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async next(timeoutMs = 5000): Promise<any> {
      const deadline = Date.now() + timeoutMs
      while (messages.length === 0) {
        if (Date.now() > deadline) throw new Error('no WebSocket message within the timeout')
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 100)
        })
      }
      return messages.shift()
    },
    pending: () => messages.length,
  }
}

describe('standalone traffic WebSocket and summary', () => {
  it('sends the summary on connect and again after each POST /api/traffic/update', async () => {
    app = await startService({ env: { LOG_LEVEL: 'info' } })
    const id = await createService()
    const client = await openSocket(`${app.url.replace('http', 'ws')}/api/traffic/ws`)
    try {
      const first = await client.next()
      expect(first).toMatchObject({ total_services: 1, services_with_traffic: 0, services: [] })

      const report = { service_id: id, bandwidth_up: 1.5, bandwidth_down: 20, total_up: 3, total_down: 40 }
      expect((await call('/api/traffic/update', jsonInit('POST', report))).status).toBe(200)
      const second = await client.next()
      expect(second).toMatchObject({ services_with_traffic: 1, total_bandwidth_down: 20, total_traffic_down: 40 })
      expect(second.services[0]).toMatchObject({ id, name: 'NAS', bandwidth_up: 1.5, total_down: 40 })
      expect(second.services[0].traffic_history).toHaveLength(1)

      await call('/api/traffic/update', jsonInit('POST', { ...report, bandwidth_down: 30, total_down: 45 }))
      const third = await client.next()
      expect(third.total_bandwidth_down).toBe(30)
      expect(third.services[0].traffic_history.map((p: { total_down: number }) => p.total_down)).toEqual([40, 45])

      // The REST summary is the same summary.
      const summary = (await (await call('/api/traffic/summary')).json()) as { services: unknown[] }
      expect(summary).toEqual(third)
    } finally {
      client.socket.close()
    }
  })

  it('refuses an upgrade on any other path, and closes its sockets when the service stops', async () => {
    app = await startService({ env: { LOG_LEVEL: 'info' } })
    await expect(openSocket(`${app.url.replace('http', 'ws')}/api/plex/sessions`)).rejects.toThrow(/404/)
    const client = await openSocket(`${app.url.replace('http', 'ws')}/api/traffic/ws`)
    await client.next()
    const closed = new Promise<void>((resolve) => client.socket.once('close', () => resolve()))
    await app.close()
    app = undefined
    await closed
  })
})

describe('standalone storage', () => {
  it('sums the agents’ reports per service, refuses unknown services and bad bodies', async () => {
    app = await startService({ env: { LOG_LEVEL: 'info' } })
    const id = await createService()
    const report = {
      service_id: id,
      hostname: 'nas',
      timestamp: new Date().toISOString(),
      storage_paths: [
        { path: '/mnt/disk1', total: 1000, used: 250, free: 750, percent: 25 },
        { path: '/mnt/unionfs', total: 0, used: 0, free: 0, percent: 0 },
      ],
      raid_arrays: [
        { device: 'md0', status: 'healthy' },
        { device: 'md1', status: 'degraded' },
      ],
      zfs_pools: [{ pool: 'tank', status: 'faulted' }],
    }
    expect((await call('/api/storage/update', jsonInit('POST', report))).status).toBe(200)
    const summary = await (await call('/api/storage/summary')).json()
    expect(summary).toEqual({
      total_services: 1,
      services_with_storage: 1,
      total_capacity: 1000,
      total_used: 250,
      total_free: 750,
      average_usage_percent: 25,
      total_raid_arrays: 3,
      healthy_raids: 1,
      degraded_raids: 1,
      failed_raids: 1,
      unmounted_paths: 1,
    })
    const current = await (await call(`/api/storage/${id}/current`)).json()
    expect(current).toMatchObject({ hostname: 'nas', storage_paths: report.storage_paths })
    const history = (await (await call(`/api/storage/${id}/history`)).json()) as unknown[]
    expect(history).toEqual([expect.objectContaining({ total_capacity: 1000, raid_healthy: 1, raid_failed: 1 })])

    const unknown = await call('/api/storage/update', jsonInit('POST', { ...report, service_id: 'nope' }))
    expect(unknown.status).toBe(404)
    const bad = await call('/api/storage/update', jsonInit('POST', { service_id: id, hostname: 'nas' }))
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { detail: string }).detail).toContain('storage_paths')

    // A deleted service's report leaves the summary.
    expect((await call(`/api/services/${id}`, { method: 'DELETE' })).status).toBe(204)
    expect(await (await call('/api/storage/summary')).json()).toMatchObject({ total_services: 0, total_capacity: 0 })
  })
})

describe('standalone icons and version', () => {
  it('stores an uploaded icon and serves it back; refuses other types', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'standalone-icons-'))
    folders.push(dataDir)
    app = await startService({ env: { LOG_LEVEL: 'info', DATABASE_PATH: join(dataDir, 'komandorr.db') } })
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    const form = new FormData()
    form.append('file', new Blob([svg], { type: 'image/svg+xml' }), 'radarr.svg')
    const upload = await call('/api/upload-icon', { method: 'POST', body: form })
    expect(upload.status).toBe(200)
    const { path, filename } = (await upload.json()) as { path: string; filename: string }
    expect(path).toBe(`/icons/uploaded/${filename}`)
    const icon = await call(path)
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toBe('image/svg+xml')
    expect(icon.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(await icon.text()).toBe(svg)

    const text = new FormData()
    text.append('file', new Blob(['hello'], { type: 'text/html' }), 'x.html')
    const refused = await call('/api/upload-icon', { method: 'POST', body: text })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { detail: string }).detail).toContain('text/html')
    expect((await call('/icons/uploaded/../komandorr.db')).status).toBe(404)
  })

  it('reports the version of the frontend it serves (release.txt of FRONTEND_DIR)', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'standalone-dist-'))
    folders.push(dist)
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>k</title>')
    writeFileSync(join(dist, 'release.txt'), 'v3.3.0\n')
    app = await startService({ env: { LOG_LEVEL: 'info', FRONTEND_DIR: dist } })
    expect(await (await call('/api/version')).json()).toEqual({
      local: '3.3.0',
      remote: null,
      is_update_available: false,
    })
  })
})

describe('standalone with ENABLE_AUTH', () => {
  it('asks credentials where Komandorr does, and leaves open what holds no data or what invitees call', async () => {
    app = await startService({ env: { LOG_LEVEL: 'info', ...AUTH } })
    for (const path of [
      '/api/settings',
      '/api/version',
      '/api/config',
      '/api/traffic/summary',
      '/api/storage/summary',
      '/api/releases',
    ]) {
      expect((await call(path)).status, path).toBe(401)
      expect((await call(path, { headers: ADMIN })).status, path).toBe(200)
    }
    // Fixed not-configured answers: Komandorr's uploader and arr pages call them without credentials.
    for (const path of ['/api/uploader/inprogress', '/api/arr-activity/queue', '/api/invites/tmdb/api-key']) {
      expect((await call(path)).status, path).toBe(200)
    }
    expect((await call('/api/invites/validate?code=X1', { method: 'POST' })).status).toBe(200)
    expect((await call('/api/invites/redeem', jsonInit('POST', { code: 'X1' }))).status).toBe(409)
    const form = new FormData()
    form.append('file', new Blob(['x'], { type: 'image/png' }), 'a.png')
    expect((await call('/api/upload-icon', { method: 'POST', body: form })).status).toBe(401)
    expect((await call('/api/settings', jsonInit('POST', {}))).status).toBe(401)

    // The WebSocket is open like Komandorr's: a browser's WebSocket cannot send Basic credentials.
    const id = await createService(ADMIN)
    const client = await openSocket(`${app.url.replace('http', 'ws')}/api/traffic/ws`)
    expect((await client.next()).total_services).toBe(1)
    client.socket.close()
    expect(id).toBeTruthy()
  })
})

describe('with KOMANDORR_URL', () => {
  it('registers none of the standalone routes: they are Komandorr’s to answer', async () => {
    const routes: string[] = []
    const fastify = Fastify()
    fastify.addHook('onRoute', (route) => void routes.push(route.url))
    const deps = (komandorrUrl: string | null) =>
      ({
        config: {
          komandorrUrl,
          frontendDir: null,
          logLevel: 'info',
          database: { path: ':memory:' },
          plex: { serverName: 'P' },
        },
        plex: { settings: undefined },
        services: { list: async () => [], get: async () => undefined },
        traffic: {
          latest: async () => undefined,
          latestPerService: async () => new Map(),
          recent: async () => [],
          onRecord: () => () => {},
        },
        clock: { wallNow: () => 0 },
      }) as unknown as StandaloneDeps
    komandorrStandaloneRoutes(fastify, deps('http://komandorr:8000'))
    await fastify.ready()
    expect(routes).toEqual([])
    await fastify.close()

    const standalone = Fastify()
    standalone.addHook('onRoute', (route) => void routes.push(route.url))
    komandorrStandaloneRoutes(standalone, deps(null))
    await standalone.ready()
    expect(routes).toContain('/api/settings')
    await standalone.close()
  })
})
