import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { basic, type ClockedPlexApp, json, jsonInit, PLEX_TOKEN, startService } from '../support/api-harness.js'
import { ManualClock } from '../../src/cache/index.js'

const STATS_FIELDS = [
  'peak_concurrent',
  'last_updated',
  'server_url',
  'server_name',
  'token_configured',
  'total_users',
  'total_movies',
  'total_tv_shows',
]

/** Totals the simulator holds, counted from its own state. */
function simTotals(t: ClockedPlexApp) {
  const state = t.sim.control.state()
  const sum = (type: string, typeId: string) =>
    state.library.sections.filter((s) => s.type === type).reduce((n, s) => n + (s.counts[typeId] ?? 0), 0)
  return { users: state.accounts.filter((a) => a.id > 0).length, movies: sum('movie', '1'), shows: sum('show', '2') }
}

describe('Plex stats', () => {
  let t: ClockedPlexApp
  const clock = new ManualClock({ wallNow: Date.UTC(2026, 2, 1, 8, 0, 0) })
  const stats = () => fetch(`${t.url}/api/plex/stats`)
  const peak = (body: unknown) => fetch(`${t.url}/api/plex/stats/peak`, jsonInit('POST', body))
  const reset = () => fetch(`${t.url}/api/plex/stats/reset`, { method: 'POST' })

  beforeAll(async () => {
    // CACHE_WARM_IDLE=1: no refresh-ahead behind the tests' back, values simply age out.
    t = await startService({ plex: true, env: { PLEX_SERVER_NAME: 'Basement', CACHE_WARM_IDLE: '1' }, clock })
  })
  afterAll(() => t.close())

  it('GET /api/plex/stats: the stored peak, the server without its token, and PMS totals', async () => {
    const response = await stats()
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cache')).toBe('MISS')
    const body = await json(response)
    const totals = simTotals(t)
    expect(body).toEqual({
      cached: false,
      cache_age: 0,
      timestamp: expect.stringMatching(/Z$/),
      peak_concurrent: 0,
      last_updated: null,
      server_url: t.sim.url,
      server_name: 'Basement',
      token_configured: true,
      total_users: totals.users,
      total_movies: totals.movies,
      total_tv_shows: totals.shows,
    })
    expect(totals.movies).toBeGreaterThan(0)
    expect(totals.shows).toBeGreaterThan(0)
    expect(
      Object.keys(body)
        .filter((k) => !['cached', 'cache_age', 'timestamp'].includes(k))
        .sort(),
    ).toEqual([...STATS_FIELDS].sort())
  })

  it('is cached for CACHE_STATS_TTL: a second read asks Plex nothing', async () => {
    t.sim.control.resetCounts()
    const response = await stats()
    expect(response.headers.get('x-cache')).toBe('HIT')
    expect((await json(response)).cached).toBe(true)
    expect(t.sim.control.totalRequests()).toBe(0)
    await t.clock.advance(t.runtime.config.cache.ttlMs.plex_stats!)
    expect((await stats()).headers.get('x-cache')).toBe('MISS')
    expect(t.counts()['/accounts']).toBe(1)
  })

  it('POST /stats/peak raises the peak only when higher, and the next stats read shows it', async () => {
    clock.setWallNow(Date.UTC(2026, 2, 1, 9, 0, 0))
    let response = await peak({ peak_concurrent: 5 })
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      success: true,
      peak_concurrent: 5,
      last_updated: '2026-03-01T09:00:00.000Z',
    })
    expect(await json(await stats())).toMatchObject({ peak_concurrent: 5, last_updated: '2026-03-01T09:00:00.000Z' })

    clock.setWallNow(Date.UTC(2026, 2, 1, 10, 0, 0))
    expect(await json(await peak({ peak_concurrent: 3 }))).toEqual({
      success: true,
      peak_concurrent: 5,
      last_updated: '2026-03-01T09:00:00.000Z',
    })
    expect(await json(await peak({ peak_concurrent: 5 }))).toEqual({
      success: true,
      peak_concurrent: 5,
      last_updated: '2026-03-01T09:00:00.000Z',
    })
    response = await peak({ peak_concurrent: 8 })
    expect(await json(response)).toEqual({
      success: true,
      peak_concurrent: 8,
      last_updated: '2026-03-01T10:00:00.000Z',
    })
    expect(await json(await stats())).toMatchObject({ peak_concurrent: 8 })
  })

  it('POST /stats/reset sets the peak to 0', async () => {
    clock.setWallNow(Date.UTC(2026, 2, 2, 0, 0, 0))
    const response = await reset()
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      success: true,
      peak_concurrent: 0,
      last_updated: '2026-03-02T00:00:00.000Z',
    })
    expect(await json(await stats())).toMatchObject({ peak_concurrent: 0, last_updated: '2026-03-02T00:00:00.000Z' })
    expect(await json(await peak({ peak_concurrent: 1 }))).toMatchObject({ peak_concurrent: 1 })
  })

  it.each([
    [{ peak_concurrent: -1 }, 'peak_concurrent'],
    [{ peak_concurrent: 2.5 }, 'peak_concurrent'],
    [{ peak_concurrent: '5' }, 'peak_concurrent'],
    [{}, 'peak_concurrent'],
    ['[1]', 'request body'],
  ])('peak body %j is a 400 naming %s', async (body, what) => {
    const response = await peak(body)
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toContain(what)
  })

  it('serves the last good stats marked stale while Plex is down', async () => {
    expect((await stats()).status).toBe(200)
    await t.clock.advance(t.runtime.config.cache.ttlMs.plex_stats!)
    await t.sim.control.setFault({ mode: 'outage' })
    try {
      const response = await stats()
      expect(response.status).toBe(200)
      expect(response.headers.get('x-cache')).toBe('STALE')
      expect(await json(response)).toMatchObject({
        stale: true,
        token_configured: true,
        total_movies: simTotals(t).movies,
      })
    } finally {
      await t.sim.control.clearFaults()
    }
  })

  it('never shows the token', async () => {
    for (const response of [await stats(), await peak({ peak_concurrent: 1 }), await reset()]) {
      const text = await response.text()
      expect(text).not.toContain(PLEX_TOKEN)
    }
  })
})

describe('Plex stats while Plex is down from the start', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock() })
    await t.sim.control.setFault({ mode: 'outage' })
  })
  afterAll(async () => {
    await t.sim.control.clearFaults()
    await t.close()
  })

  it('answers 503 with a detail, and caches nothing', async () => {
    const response = await fetch(`${t.url}/api/plex/stats`)
    expect(response.status).toBe(503)
    const body = await json(response)
    expect(body.detail).toMatch(/Plex statistics/)
    expect(body.message).toBe(body.detail)
    expect(t.runtime.caches.get('plex_stats')!.stats().entries).toBe(0)
  })
})

describe('Plex stats without a Plex server', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({ plex: true, clock: new ManualClock(), configured: false })
  })
  afterAll(() => t.close())

  it('shows the stored peak with zeros, token_configured false, without a cache entry', async () => {
    await fetch(`${t.url}/api/plex/stats/peak`, jsonInit('POST', { peak_concurrent: 4 }))
    const response = await fetch(`${t.url}/api/plex/stats`)
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cache')).toBeNull()
    expect(await json(response)).toEqual({
      peak_concurrent: 4,
      last_updated: expect.stringMatching(/Z$/),
      server_url: '',
      server_name: 'Plex Server',
      token_configured: false,
      total_users: 0,
      total_movies: 0,
      total_tv_shows: 0,
    })
    expect(t.sim.control.totalRequests()).toBe(0)
  })
})

describe('Plex stats with auth on', () => {
  let t: ClockedPlexApp
  const auth = basic('admin', 'correct horse')

  beforeAll(async () => {
    t = await startService({
      plex: true,
      clock: new ManualClock(),
      env: { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'correct horse' },
    })
  })
  afterAll(() => t.close())

  it('reads are open, the peak writes need credentials', async () => {
    expect((await fetch(`${t.url}/api/plex/stats`)).status).toBe(200)
    expect((await fetch(`${t.url}/api/plex/stats/dashboard`)).status).toBe(200)
    expect((await fetch(`${t.url}/api/plex/stats/peak`, jsonInit('POST', { peak_concurrent: 9 }))).status).toBe(401)
    expect((await fetch(`${t.url}/api/plex/stats/reset`, { method: 'POST' })).status).toBe(401)
    expect((await t.runtime.repos.plexStats.get()).peakConcurrent).toBe(0)
    expect((await fetch(`${t.url}/api/plex/stats/peak`, jsonInit('POST', { peak_concurrent: 9 }, auth))).status).toBe(
      200,
    )
    expect((await t.runtime.repos.plexStats.get()).peakConcurrent).toBe(9)
    expect((await fetch(`${t.url}/api/plex/stats/reset`, { method: 'POST', headers: auth })).status).toBe(200)
    expect((await t.runtime.repos.plexStats.get()).peakConcurrent).toBe(0)
  })
})
