import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startService, type TestApp } from '../support/api-harness.js'
import { KomandorrStandIn } from './stand-in.js'

describe('in front of Komandorr: the pass-through', () => {
  let komandorr: KomandorrStandIn
  let service: TestApp

  beforeAll(async () => {
    komandorr = await KomandorrStandIn.start()
    service = await startService({ env: { KOMANDORR_URL: komandorr.url, LOG_LEVEL: 'info' } })
  })
  afterAll(async () => {
    await service?.close()
    await komandorr?.close()
  })
  beforeEach(() => komandorr.reset())

  it('passes any method with its path, query, body and headers, and streams back the status and headers', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const response = await fetch(`${service.url}/api/uploader/queue/7?force=true&x=%20y`, {
        method,
        headers: { 'content-type': 'application/json', authorization: 'Basic YTpi', 'x-custom': 'kept' },
        body: JSON.stringify({ name: method }),
      })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-komandorr')).toBe('written')
      const body = (await response.json()) as { method: string; path: string; query: string; body: string }
      expect(body).toMatchObject({ method, path: '/api/uploader/queue/7', query: 'force=true&x=%20y' })
      expect(JSON.parse(body.body)).toEqual({ name: method })
    }
    expect(komandorr.received.map((r) => r.method)).toEqual(['POST', 'PUT', 'PATCH', 'DELETE'])
    for (const received of komandorr.received) {
      expect(received.headers.authorization).toBe('Basic YTpi')
      expect(received.headers['x-custom']).toBe('kept')
    }
  })

  it("gives Komandorr's own status, headers and body, whatever they are", async () => {
    const response = await fetch(`${service.url}/api/teapot`)
    expect(response.status).toBe(418)
    expect(response.headers.get('x-komandorr')).toBe('teapot')
    expect(await response.json()).toEqual({ detail: 'I am a teapot' })
  })

  it('serves the frontend from Komandorr through the same pass-through', async () => {
    const page = await fetch(`${service.url}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<div id="root">')
    const asset = await fetch(`${service.url}/assets/index-abc123.js`)
    expect(asset.headers.get('content-type')).toBe('text/javascript')
    expect(await asset.text()).toContain('/assets/index-abc123.js')
    expect(komandorr.count('GET', '/')).toBe(1)
    expect(komandorr.count('GET', '/assets/index-abc123.js')).toBe(1)
  })

  it('keeps answering what the service owns: health, cache stats, metrics, Plex routes', async () => {
    const health = await fetch(`${service.url}/api/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toHaveProperty('database')
    expect((await fetch(`${service.url}/api/plex/cache/stats`)).status).toBe(200)
    expect((await fetch(`${service.url}/metrics`)).status).toBe(200)
    expect(((await (await fetch(`${service.url}/openapi.json`)).json()) as { openapi: string }).openapi).toMatch(/^3\./)
    expect((await fetch(`${service.url}/cache`)).headers.get('content-type')).toContain('text/html')
    expect((await fetch(`${service.url}/api/plex/sessions`)).status).toBe(200)
    expect(komandorr.received.filter((r) => !r.url.startsWith('/api/auth/status'))).toEqual([])
  })

  it('tunnels the traffic WebSocket both ways', async () => {
    const ws = new WebSocket(`${service.url.replace('http', 'ws')}/api/traffic/ws`)
    const messages: unknown[] = []
    ws.on('message', (data) => messages.push(JSON.parse(String(data))))
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    await waitFor(() => messages.length >= 1)
    expect(messages[0]).toMatchObject({ type: 'traffic_summary' })
    ws.send('ping from the browser')
    await waitFor(() => messages.length >= 2)
    expect(messages[1]).toEqual({ type: 'echo', data: 'ping from the browser' })
    komandorr.pushTraffic({ service_id: 's1', bandwidth_up: 1 })
    await waitFor(() => messages.length >= 3)
    expect(messages[2]).toEqual({ type: 'traffic_update', data: { service_id: 's1', bandwidth_up: 1 } })
    expect(komandorr.wsMessages).toEqual(['ping from the browser'])
    ws.close()
  })

  it('answers a 502 with detail for a request Komandorr cannot take while it is down', async () => {
    await komandorr.down()
    try {
      const response = await fetch(`${service.url}/api/posterizarr/status`)
      expect(response.status).toBe(502)
      const body = (await response.json()) as { detail: string }
      expect(body.detail).toContain(`Komandorr at ${komandorr.url} did not answer GET /api/posterizarr/status`)
    } finally {
      await komandorr.up()
    }
  })
})

async function waitFor(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
