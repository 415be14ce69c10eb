import { ManualClock } from '../../src/cache/index.js'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { basic, type ClockedPlexApp, json, PLEX_TOKEN, startService } from '../support/api-harness.js'

/** Every cache, in the order cache/stats lists them: SPEC §1's nine, then ours. */
const CACHE_NAMES = [
  'plex_activities',
  'plex_sessions',
  'watch_history',
  'plex_stats',
  'plex_stats_live',
  'plex_recent_media',
  'plex_libraries',
  'plex_users_count',
  'background_stats',
  'plex_transcode_sessions',
  'plex_images',
]

const PLEX_CACHES = [
  'plex_activities',
  'plex_sessions',
  'plex_stats',
  'plex_stats_live',
  'plex_recent_media',
  'plex_libraries',
  'plex_users_count',
  'plex_transcode_sessions',
]

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Entry = Record<string, any>

describe('cache management', () => {
  let t: ClockedPlexApp
  const get = (path: string) => fetch(`${t.url}${path}`)
  const post = (path: string, init: RequestInit = {}) => fetch(`${t.url}${path}`, { method: 'POST', ...init })
  const report = async () => json(await get('/api/plex/cache/stats'))
  const entry = (body: { caches: Entry[] }, name: string) => body.caches.find((c) => c.name === name)!

  beforeAll(async () => {
    // CACHE_WARM_IDLE=1: no refresh-ahead behind the script's back, so every counter is exact.
    t = await startService({
      plex: true,
      clock: new ManualClock(),
      env: { CACHE_WARM_IDLE: '1' },
      sim: { historyRows: 300 },
    })
  })
  afterAll(() => t.close())
  afterEach(() => t.sim.control.clearFaults())

  it("lists every cache, SPEC §1's nine first, with exact counters after a scripted sequence of reads", async () => {
    expect((await post('/api/plex/watch-history/sync')).status).toBe(200)
    for (const expected of ['MISS', 'HIT', 'HIT'])
      expect((await get('/api/plex/watch-history')).headers.get('x-cache')).toBe(expected)
    expect((await get('/api/plex/watch-history?limit=10')).headers.get('x-cache')).toBe('MISS')
    // The dashboard: its snapshot (a miss), then its Plex totals in the background (a plex_stats_live
    // miss) and the snapshot recomputed with them (a refresh).
    expect((await get('/api/plex/stats/dashboard')).headers.get('x-cache')).toBe('MISS')
    await vi.waitFor(async () => expect(entry(await report(), 'background_stats').loads).toBe(2))
    // plex_stats takes its totals from plex_stats_live, fresh by now: a plex_stats_live hit, no Plex call.
    for (const expected of ['MISS', 'HIT']) expect((await get('/api/plex/stats')).headers.get('x-cache')).toBe(expected)
    // Three readers of a slow load: one load, two coalesced waiters.
    await t.sim.control.setFault({ endpoint: '/activities', latencyMs: 200 })
    await Promise.all([1, 2, 3].map(() => get('/api/plex/activities')))
    await t.clock.advance(1500)

    const body = await report()
    expect(body.caches.map((c: Entry) => c.name)).toEqual([...CACHE_NAMES])
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(body.redis).toEqual({
      type: 'memory',
      enabled: false,
      connected: false,
      state: 'disabled',
      last_error: null,
    })
    expect([...body.redis_keys_expected].sort()).toEqual(
      [
        'komandorr:plex:activities',
        'komandorr:plex:sessions',
        'komandorr:plex:watch_history:*',
        'komandorr:plex:stats',
        'komandorr:plex:stats_live',
        'komandorr:plex:recent_media',
        'komandorr:plex:libraries:*',
        'komandorr:plex:users_count',
        'komandorr:stats:dashboard',
        'komandorr:plex:transcode_sessions',
      ].sort(),
    )

    const untouched = {
      hits: 0,
      misses: 0,
      total_requests: 0,
      hit_rate: '0.0%',
      cached: false,
      cache_age_seconds: null,
      loads: 0,
      entries: 0,
      bytes: 0,
    }
    expect(entry(body, 'watch_history')).toMatchObject({
      hits: 2,
      misses: 2,
      total_requests: 4,
      hit_rate: '50.0%',
      ttl_seconds: 300,
      cached: true,
      cache_age_seconds: 1.5,
      declared: true,
      key: 'komandorr:plex:watch_history',
      stale_serves: 0,
      coalesced: 0,
      refreshes: 0,
      loads: 2,
      errors: 0,
      entries: 2,
      load_samples: 2,
      load_p50_ms: expect.any(Number),
      load_p95_ms: expect.any(Number),
      load_p99_ms: expect.any(Number),
      last_error: null,
      max_stale_seconds: 3600,
    })
    expect(entry(body, 'watch_history').bytes).toBeGreaterThan(0)
    expect(entry(body, 'plex_stats')).toMatchObject({
      hits: 1,
      misses: 1,
      total_requests: 2,
      hit_rate: '50.0%',
      ttl_seconds: 60,
      loads: 1,
      entries: 1,
      cached: true,
    })
    expect(entry(body, 'plex_activities')).toMatchObject({
      hits: 0,
      misses: 1,
      coalesced: 2,
      total_requests: 3,
      hit_rate: '0.0%',
      ttl_seconds: 5,
      loads: 1,
    })
    expect(entry(body, 'plex_stats_live')).toMatchObject({
      hits: 1,
      misses: 1,
      total_requests: 2,
      loads: 1,
      entries: 1,
      ttl_seconds: 30,
    })
    expect(entry(body, 'background_stats')).toMatchObject({
      hits: 0,
      misses: 1,
      refreshes: 1,
      loads: 2,
      entries: 1,
      ttl_seconds: 60,
      refresh_ahead: false,
      enabled: false,
      last_update: expect.stringMatching(/Z$/),
      update_interval: 60,
    })
    // plex_stats's load also read the sharing plex.tv tells plex_users_count (for viewers' views).
    expect(entry(body, 'plex_users_count')).toMatchObject({
      hits: 0,
      misses: 1,
      total_requests: 1,
      loads: 1,
      entries: 1,
      errors: 0,
    })
    for (const name of ['plex_sessions', 'plex_recent_media', 'plex_libraries', 'plex_transcode_sessions']) {
      expect(entry(body, name)).toMatchObject({
        ...untouched,
        declared: true,
        errors: 0,
        stale_serves: 0,
        load_p50_ms: null,
      })
    }
    expect(entry(body, 'plex_users_count').ttl_seconds).toBe(300)
    expect(entry(body, 'plex_transcode_sessions').ttl_seconds).toBe(10)
  })

  it('clear drops every value without waiting on Plex: the next reads are misses, the counters stay', async () => {
    for (const path of ['/api/plex/watch-history', '/api/plex/stats', '/api/plex/stats/dashboard']) {
      expect((await get(path)).headers.get('x-cache')).toBe('HIT')
    }
    const hitsBefore = entry(await report(), 'watch_history').hits
    await t.sim.control.setFault({ mode: 'hang' })
    const response = await post('/api/plex/cache/clear', { signal: AbortSignal.timeout(3_000) })
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body).toEqual({
      success: true,
      message: 'Cleared 11 caches',
      redis_cleared: false,
      cleared: expect.any(Array),
    })
    expect([...body.cleared].sort()).toEqual([...CACHE_NAMES].sort())
    await t.sim.control.clearFaults()

    const after = await report()
    for (const name of CACHE_NAMES) expect(entry(after, name)).toMatchObject({ cached: false, entries: 0, bytes: 0 })
    expect(entry(after, 'watch_history').hits).toBe(hitsBefore)
    for (const path of ['/api/plex/watch-history', '/api/plex/stats', '/api/plex/stats/dashboard']) {
      expect((await get(path)).headers.get('x-cache')).toBe('MISS')
    }
  })

  it('warm reloads every cache now, and a warm asked for meanwhile joins it', async () => {
    await t.sim.control.setFault({ endpoint: '/accounts', latencyMs: 200 })
    t.sim.control.resetCounts()
    const [a, b] = await Promise.all([post('/api/plex/cache/warm'), post('/api/plex/cache/warm')])
    const body = await json(a)
    expect(await json(b)).toEqual(body)
    expect(body).toEqual({ success: true, message: 'Reloaded 11 caches', warmed: expect.any(Array), failed: [] })
    expect([...body.warmed].sort()).toEqual([...CACHE_NAMES].sort())
    // plex_stats_live asked once and plex_stats took its totals; a second pass would have made it 2.
    expect(t.counts()['/accounts']).toBe(1)
    for (const path of ['/api/plex/stats', '/api/plex/sessions', '/api/plex/users/count']) {
      expect((await get(path)).headers.get('x-cache')).toBe('HIT')
    }
  })

  it('50 warms in a row cost one warm at Plex: joiners share it, the rest get 429 with Retry-After', async () => {
    const plexRequests = () => Object.values(t.counts()).reduce((sum, n) => sum + n, 0)
    await t.clock.advance(10_000)
    t.sim.control.resetCounts()
    expect((await post('/api/plex/cache/warm')).status).toBe(200)
    const oneWarm = plexRequests()
    expect(oneWarm).toBeGreaterThan(0)

    await t.clock.advance(10_000)
    t.sim.control.resetCounts()
    await t.sim.control.setFault({ endpoint: '/accounts', latencyMs: 1_000 })
    const joined = await Promise.all(Array.from({ length: 10 }, () => post('/api/plex/cache/warm')))
    // Those that arrive while the warm runs join it (200); on a slow machine a late one finds it done (429).
    const joinedStatuses = joined.map((r) => r.status)
    expect(joinedStatuses[0]).toBe(200)
    expect(joinedStatuses.filter((s) => s === 200).length).toBeGreaterThan(1)
    expect(joinedStatuses.every((s) => s === 200 || s === 429)).toBe(true)
    const refused = []
    for (let i = 0; i < 40; i++) refused.push(await post('/api/plex/cache/warm'))
    expect(refused.map((r) => r.status)).toEqual(Array(40).fill(429))
    expect(refused[0]!.headers.get('retry-after')).toBe('10')
    expect((await json(refused[0]!)).detail).toMatch(/warmed less than 10 s ago.*try again in 10 s/)
    expect(plexRequests()).toBeLessThanOrEqual(oneWarm)
    console.log(`warm: one warm ${oneWarm} Plex requests; 50 warm calls in a row ${plexRequests()}`)

    await t.clock.advance(10_000)
    expect((await post('/api/plex/cache/warm')).status).toBe(200)
  })

  it('warm with Plex down names each cache that failed, with why, and keeps the old values', async () => {
    const before = await json(await get('/api/plex/stats'))
    await t.clock.advance(60_000)
    await t.sim.control.setFault({ mode: 'outage' })
    const response = await post('/api/plex/cache/warm')
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body.success).toBe(false)
    expect(body.message).toBe('Reloaded 3 of 11 caches; 8 failed and keep their last value')
    expect([...body.warmed].sort()).toEqual(['background_stats', 'plex_images', 'watch_history'])
    expect(body.failed.map((f: Entry) => f.name).sort()).toEqual([...PLEX_CACHES].sort())
    for (const failure of body.failed) expect(failure.detail).toMatch(/unreachable/)
    expect(JSON.stringify(body)).not.toContain(PLEX_TOKEN)

    const stale = await get('/api/plex/stats')
    expect(stale.status).toBe(200)
    expect(stale.headers.get('x-cache')).toBe('STALE')
    expect(await json(stale)).toMatchObject({
      stale: true,
      total_movies: before.total_movies,
      total_users: before.total_users,
    })
    const stats = await report()
    expect(entry(stats, 'plex_stats').errors).toBeGreaterThan(0)
    expect(entry(stats, 'plex_stats').last_error).toMatch(/unreachable/)
  })

  it('never shows the token', async () => {
    await t.clock.advance(10_000)
    for (const response of [
      await get('/api/plex/cache/stats'),
      await post('/api/plex/cache/warm'),
      await post('/api/plex/cache/clear'),
    ]) {
      expect(await response.text()).not.toContain(PLEX_TOKEN)
    }
  })
})

describe('cache management with auth on', () => {
  let t: ClockedPlexApp

  beforeAll(async () => {
    t = await startService({
      plex: true,
      clock: new ManualClock(),
      env: { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'correct horse' },
    })
  })
  afterAll(() => t.close())

  it('needs credentials for stats, clear and warm', async () => {
    expect((await fetch(`${t.url}/api/plex/cache/stats`)).status).toBe(401)
    expect((await fetch(`${t.url}/api/plex/cache/clear`, { method: 'POST' })).status).toBe(401)
    expect((await fetch(`${t.url}/api/plex/cache/warm`, { method: 'POST' })).status).toBe(401)
    expect(t.sim.control.totalRequests()).toBe(0)
    const auth = basic('admin', 'correct horse')
    expect((await fetch(`${t.url}/api/plex/cache/stats`, { headers: auth })).status).toBe(200)
    expect((await fetch(`${t.url}/api/plex/cache/clear`, { method: 'POST', headers: auth })).status).toBe(200)
  })
})
