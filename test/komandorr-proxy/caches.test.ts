import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { storageSummaryCache } from '../../src/features/caches/komandorr-caches.js'
import { startService, type TestApp } from '../support/api-harness.js'
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js'
import { KomandorrStandIn } from './stand-in.js'

interface Answer {
  readonly path: string
  readonly generation: number
}

describe('in front of Komandorr: the cached GETs the frontend polls', () => {
  let komandorr: KomandorrStandIn
  let service: TestApp
  const clock = new ManualClock({ now: 1_000_000 })

  beforeAll(async () => {
    komandorr = await KomandorrStandIn.start()
    service = await startService({ env: { KOMANDORR_URL: komandorr.url, LOG_LEVEL: 'info' }, clock })
  })
  afterAll(async () => {
    await service?.close()
    await komandorr?.close()
  })
  beforeEach(() => komandorr.reset())

  const get = async (path: string) => {
    const response = await fetch(service.url + path)
    return { status: response.status, cache: response.headers.get('x-cache'), body: (await response.json()) as Answer }
  }
  const post = (path: string) =>
    fetch(service.url + path, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })

  it('makes one Komandorr call however many tabs poll at once', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => get('/api/arr-activity/queue')))
    expect(answers.every((a) => a.status === 200 && a.body.path === '/api/arr-activity/queue')).toBe(true)
    expect(komandorr.count('GET', '/api/arr-activity/queue')).toBe(1)
    expect((await get('/api/arr-activity/queue')).cache).toBe('HIT')
  })

  it('passes a request with a query through: the cache holds the plain GET only', async () => {
    await get('/api/uploader/queue')
    const queried = await get('/api/uploader/queue?page=2')
    expect(queried.cache).toBeNull()
    expect(komandorr.count('GET', '/api/uploader/queue?page=2')).toBe(1)
  })

  it('drops the cached GETs under a write’s prefix, and only those', async () => {
    const before = await get('/api/uploader/queue')
    await get('/api/arr-activity/queue')
    expect((await post('/api/uploader/queue/retry')).status).toBe(200)
    const after = await get('/api/uploader/queue')
    expect(after.cache).toBe('MISS')
    expect(after.body.generation).toBe(before.body.generation + 1)
    expect((await get('/api/arr-activity/queue')).cache).toBe('HIT')
  })

  it('drops the traffic summary when a service is added (its declared prefixes)', async () => {
    const before = await get('/api/traffic/summary')
    expect((await get('/api/traffic/summary')).cache).toBe('HIT')
    await post('/api/services/')
    const after = await get('/api/traffic/summary')
    expect(after.cache).toBe('MISS')
    expect(after.body.generation).toBeGreaterThan(before.body.generation)
  })

  it('serves stale while Komandorr is down, 502 with detail where nothing is held, fresh once it is back', async () => {
    const held = await get(storageSummaryCache.path)
    await komandorr.down()
    try {
      await clock.advance(storageSummaryCache.ttlSeconds * 1000 + 1_000)
      const stale = await get(storageSummaryCache.path)
      expect(stale.status).toBe(200)
      expect(stale.cache).toBe('STALE')
      expect(stale.body).toEqual(held.body)

      const cold = await fetch(`${service.url}/api/vpn-proxy/status`)
      expect(cold.status).toBe(502)
      expect(((await cold.json()) as { detail: string }).detail).toContain(
        `Komandorr at ${komandorr.url} did not answer`,
      )
    } finally {
      await komandorr.up()
    }
    komandorr.generation += 10
    await clock.advance(storageSummaryCache.ttlSeconds * 1000)
    const fresh = await get(storageSummaryCache.path)
    expect(fresh.cache).not.toBe('STALE')
    expect(fresh.body.generation).toBe(komandorr.generation)
  })

  it('counts requests, hits and Komandorr calls per route pattern in /metrics', async () => {
    for (let i = 0; i < 5; i++) await get('/api/vpn-proxy/containers')
    await post('/api/services/42/check')
    const samples = parsePrometheusText(await (await fetch(`${service.url}/metrics`)).text())
    const route = { route: '/api/vpn-proxy/containers' }
    expect(sampleValue(samples, 'komandorr_requests_total', route)).toBe(5)
    expect(sampleValue(samples, 'komandorr_cache_hits_total', route)).toBe(4)
    expect(sampleValue(samples, 'komandorr_upstream_calls_total', route)).toBe(1)
    const check = { route: '/api/services/:id/check' }
    expect(sampleValue(samples, 'komandorr_requests_total', check)).toBe(1)
    expect(sampleValue(samples, 'komandorr_upstream_calls_total', check)).toBe(1)
  })
})
