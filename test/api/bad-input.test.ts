import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { answering, json, jsonInit, sqliteOf, type Target, type TestApp, startService } from '../support/api-harness.js'

describe('bad input', () => {
  let t: TestApp
  let ok: Target
  let serviceId: string

  beforeAll(async () => {
    t = await startService()
    ok = await answering(200)
    serviceId = (
      await t.runtime.repos.services.insert(
        'svc',
        { name: 'Kept', url: ok.url, type: 'app', description: null, icon: null, group: null },
        0,
      )
    ).id
  })
  afterAll(async () => {
    await t.close()
    await ok.close()
  })

  const post = (path: string, body: unknown) => fetch(`${t.url}${path}`, jsonInit('POST', body))
  const servicesStored = async () => (await t.runtime.repos.services.list()).map((s) => s.id)
  const samplesStored = () =>
    (sqliteOf(t).prepare('SELECT COUNT(*) AS n FROM traffic_samples').get() as { n: number }).n

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
    expect(await servicesStored()).toEqual([serviceId])
  })

  it('refuses a bad update and leaves the service as it was', async () => {
    const before = await t.runtime.repos.services.get(serviceId)
    for (const [body, field] of [
      [{ type: 'db' }, 'type'],
      [{ url: 'javascript:alert(1)' }, 'url'],
      [{ description: 7 }, 'description'],
    ] as const) {
      const response = await fetch(`${t.url}/api/services/${serviceId}`, jsonInit('PUT', body))
      expect(response.status).toBe(400)
      expect((await json(response)).detail).toContain(field)
    }
    expect(await t.runtime.repos.services.get(serviceId)).toEqual(before)
  })

  const badTraffic: Array<[string, Record<string, unknown>, string]> = [
    ['a negative rate', { bandwidth_up: -1 }, 'bandwidth_up'],
    ['a counter sent as text', { total_down: '5' }, 'total_down'],
    ['memory above 100 %', { memory_percent: 150 }, 'memory_percent'],
    ['no service id', { service_id: undefined }, 'service_id'],
  ]

  it.each(badTraffic)(
    'refuses a traffic report with %s (400 naming it) and stores nothing',
    async (_label, change, field) => {
      const body = { service_id: serviceId, bandwidth_up: 1, bandwidth_down: 1, total_up: 1, total_down: 1, ...change }
      const response = await post('/api/traffic/update', body)
      expect(response.status).toBe(400)
      expect((await json(response)).detail).toContain(field)
      expect(samplesStored()).toBe(0)
    },
  )

  // JSON text, not JSON.stringify: 1e400 parses to Infinity, 9007199254740993 to ...992.
  const hugeNumbers = ['1e400', '-1e400', '9007199254740993', '9223372036854775807', '1e20']

  it.each(hugeNumbers)('refuses %s as a traffic rate or counter (400 naming it) and stores nothing', async (number) => {
    for (const field of [
      'bandwidth_up',
      'bandwidth_down',
      'total_up',
      'total_down',
      'max_bandwidth',
      'cpu_percent',
      'memory_percent',
    ]) {
      const fields = { bandwidth_up: '1', bandwidth_down: '1', total_up: '1', total_down: '1', [field]: number }
      const text = `{"service_id":"${serviceId}",${Object.entries(fields)
        .map(([k, v]) => `"${k}":${v}`)
        .join(',')}}`
      const response = await post('/api/traffic/update', text)
      expect(response.status, `${field}=${number}`).toBe(400)
      expect((await json(response)).detail).toContain(field)
    }
    expect(samplesStored()).toBe(0)
  })

  it.each([...hugeNumbers, '1000001', '-1', '2.5'])(
    'refuses a peak of %s (400 naming it) and keeps the stored peak',
    async (number) => {
      const before = await t.runtime.repos.plexStats.get()
      const response = await post('/api/plex/stats/peak', `{"peak_concurrent":${number}}`)
      expect(response.status).toBe(400)
      expect((await json(response)).detail).toContain('peak_concurrent')
      expect(await t.runtime.repos.plexStats.get()).toEqual(before)
    },
  )

  it('says a number too large for a double is not finite, rather than not an integer', async () => {
    const response = await post('/api/plex/stats/peak', '{"peak_concurrent":1e400}')
    expect((await json(response)).detail).toBe('Invalid body field "peak_concurrent": must be a finite number')
    const query = await fetch(`${t.url}/api/plex/watch-history?offset=Infinity`)
    expect((await json(query)).detail).toBe('Invalid query parameter "offset": must be a finite number')
  })

  it('still takes a peak and traffic inside the documented ranges', async () => {
    expect((await post('/api/plex/stats/peak', { peak_concurrent: 1_000_000 })).status).toBe(200)
    expect((await t.runtime.repos.plexStats.get()).peakConcurrent).toBe(1_000_000)
    const report = {
      service_id: serviceId,
      bandwidth_up: 1_000_000,
      bandwidth_down: 0.5,
      total_up: 1e12,
      total_down: 3,
      cpu_percent: 800,
      memory_percent: 100,
    }
    expect((await post('/api/traffic/update', report)).status).toBe(200)
    expect(samplesStored()).toBe(1)
    sqliteOf(t).prepare('DELETE FROM traffic_samples').run()
  })

  const badQueries: Array<[string, string]> = [
    ['offset=1e20', 'offset'],
    ['offset=9223372036854775807', 'offset'],
    ['offset=Infinity', 'offset'],
    ['offset=-1', 'offset'],
    ['offset=1.5', 'offset'],
    ['offset=100000001', 'offset'],
    ['limit=1e400', 'limit'],
    ['limit=Infinity', 'limit'],
    ['limit=NaN', 'limit'],
    ['limit=0', 'limit'],
    ['limit=5001', 'limit'],
    ['user_id=9223372036854775807', 'user_id'],
    ['user_id=9007199254740993', 'user_id'],
    ['user_id=-Infinity', 'user_id'],
  ]

  it.each(badQueries)('answers watch-history?%s with 400 naming the parameter', async (query, field) => {
    const response = await fetch(`${t.url}/api/plex/watch-history?${query}`)
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toContain(field)
  })

  it.each([
    ['limit=Infinity', 'limit'],
    ['offset=1e20', 'offset'],
    ['limit=1001', 'limit'],
  ])('answers services?%s with 400 naming the parameter', async (query, field) => {
    const response = await fetch(`${t.url}/api/services/?${query}`)
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toContain(field)
  })

  it('answers malformed JSON with 400', async () => {
    const response = await post('/api/services/', '{"name": "a", "url": ')
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toMatch(/JSON/)
    expect(await servicesStored()).toEqual([serviceId])
  })

  it('answers a body over 1 MiB with 413', async () => {
    const response = await post('/api/services/', {
      name: 'a',
      url: 'http://a.example',
      type: 'app',
      description: 'x'.repeat(1_100_000),
    })
    expect(response.status).toBe(413)
    expect((await json(response)).detail).toContain('1048576')
    expect(await servicesStored()).toEqual([serviceId])
  })

  it('treats an empty JSON body on a route that needs one as a missing body, not as bad JSON', async () => {
    const response = await fetch(`${t.url}/api/services/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    })
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
