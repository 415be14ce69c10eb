import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { answering, json, jsonInit, startTestApp, type Target, type TestApp } from '../support/api-harness.js'

describe('bad input', () => {
  let t: TestApp
  let ok: Target
  let serviceId: string

  beforeAll(async () => {
    t = await startTestApp()
    ok = await answering(200)
    serviceId = t.runtime.repos.services.insert('svc', { name: 'Kept', url: ok.url, type: 'app', description: null, icon: null, group: null }, 0).id
  })
  afterAll(async () => {
    await t.close()
    await ok.close()
  })

  const post = (path: string, body: unknown) => fetch(`${t.url}${path}`, jsonInit('POST', body))
  const servicesStored = () => t.runtime.repos.services.list().map((s) => s.id)
  const samplesStored = () => (t.runtime.db.prepare('SELECT COUNT(*) AS n FROM traffic_samples').get() as { n: number }).n

  const badServices: Array<[string, unknown, string]> = [
    ['a number as name', { name: 5, url: 'http://a.example', type: 'app' }, 'name'],
    ['a blank name', { name: '   ', url: 'http://a.example', type: 'app' }, 'name'],
    ['an unknown type', { name: 'a', url: 'http://a.example', type: 'database' }, 'type'],
    ['no url', { name: 'a', type: 'app' }, 'url'],
    ['an ftp url', { name: 'a', url: 'ftp://files.example', type: 'app' }, 'url'],
    ['a url that is no URL', { name: 'a', url: 'sonarr', type: 'app' }, 'url'],
    ['an unknown field', { name: 'a', url: 'http://a.example', type: 'app', colour: 'red' }, 'colour'],
    ['a too long name', { name: 'x'.repeat(201), url: 'http://a.example', type: 'app' }, 'name'],
    ['an array', [1, 2], 'body'],
  ]

  it.each(badServices)('refuses a service with %s (400 naming it) and stores nothing', async (_label, body, field) => {
    const response = await post('/api/services/', body)
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toContain(field)
    expect(servicesStored()).toEqual([serviceId])
  })

  it('refuses a bad update and leaves the service as it was', async () => {
    const before = t.runtime.repos.services.get(serviceId)
    for (const [body, field] of [
      [{ type: 'db' }, 'type'],
      [{ url: 'javascript:alert(1)' }, 'url'],
      [{ description: 7 }, 'description'],
    ] as const) {
      const response = await fetch(`${t.url}/api/services/${serviceId}`, jsonInit('PUT', body))
      expect(response.status).toBe(400)
      expect((await json(response)).detail).toContain(field)
    }
    expect(t.runtime.repos.services.get(serviceId)).toEqual(before)
  })

  const badTraffic: Array<[string, Record<string, unknown>, string]> = [
    ['a negative rate', { bandwidth_up: -1 }, 'bandwidth_up'],
    ['a counter sent as text', { total_down: '5' }, 'total_down'],
    ['memory above 100 %', { memory_percent: 150 }, 'memory_percent'],
    ['no service id', { service_id: undefined }, 'service_id'],
  ]

  it.each(badTraffic)('refuses a traffic report with %s (400 naming it) and stores nothing', async (_label, change, field) => {
    const body = { service_id: serviceId, bandwidth_up: 1, bandwidth_down: 1, total_up: 1, total_down: 1, ...change }
    const response = await post('/api/traffic/update', body)
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toContain(field)
    expect(samplesStored()).toBe(0)
  })

  it('answers malformed JSON with 400', async () => {
    const response = await post('/api/services/', '{"name": "a", "url": ')
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toMatch(/JSON/)
    expect(servicesStored()).toEqual([serviceId])
  })

  it('answers a body over 1 MiB with 413', async () => {
    const response = await post('/api/services/', { name: 'a', url: 'http://a.example', type: 'app', description: 'x'.repeat(1_100_000) })
    expect(response.status).toBe(413)
    expect((await json(response)).detail).toContain('1048576')
    expect(servicesStored()).toEqual([serviceId])
  })

  it('treats an empty JSON body on a route that needs one as a missing body, not as bad JSON', async () => {
    const response = await fetch(`${t.url}/api/services/`, { method: 'POST', headers: { 'content-type': 'application/json' } })
    expect(response.status).toBe(400)
    expect((await json(response)).detail).not.toMatch(/JSON/)
  })

  it('never answers bad input with a stack trace', async () => {
    const response = await post('/api/traffic/update', { service_id: { $gt: '' } })
    expect(response.status).toBe(400)
    const text = JSON.stringify(await json(response))
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/)
  })
})
