import { ManualClock } from '../../src/cache/index.js'
import { afterEach, describe, expect, it } from 'vitest'
import { SHARED_REDIS_URL, cleanUp, uniquePrefix } from '../redis/helpers.js'
import { basic, json, PLEX_TOKEN, simJson, type PlexApp, type TestApp, startService } from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'
import { parsePrometheusText, sampleValue, type PromSample } from '../support/prometheus-text.js'

let setup: PlexApp | undefined
let app: TestApp | undefined
const prefixes: string[] = []
afterEach(async () => {
  await setup?.close()
  await app?.close()
  setup = undefined
  app = undefined
  for (const prefix of prefixes.splice(0)) await cleanUp(prefix)
})

async function scrape(
  fetcher: (path: string, init?: RequestInit) => Promise<Response>,
  init?: RequestInit,
): Promise<PromSample[]> {
  const response = await fetcher('/metrics', init)
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parsePrometheusText(await response.text())
}

describe('GET /metrics', () => {
  it('exports the caches, Plex (from the cached values), Redis and HTTP, without calling Plex on a scrape', async () => {
    const prefix = uniquePrefix('metrics')
    prefixes.push(prefix)
    setup = await startService({
      plex: true,
      env: { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix, REDIS_TIMEOUT_MS: '1000' },
    })
    await setup.runtime.redis!.whenConnected(10_000)
    const { control } = setup.sim
    const transcoding = control.startSession({ kind: 'movie', transcode: true, location: 'wan' })
    control.startSession({ kind: 'episode', transcode: false, paused: true, location: 'lan' })

    const sessions = await json(await setup.fetch('/api/plex/sessions'))
    expect(sessions.total).toBe(2)
    await setup.fetch('/api/plex/sessions')
    await setup.fetch('/api/plex/sessions')
    const live = await json(await setup.fetch('/api/plex/stats/live'))
    await setup.fetch('/api/services/nope')
    await setup.fetch('/api/plex/users/count')
    const { version } = await simJson(setup.sim, '/identity')

    const before = control.totalRequests()
    const samples = await scrape(setup.fetch)
    await scrape(setup.fetch)
    expect(control.totalRequests()).toBe(before)

    const cache = { cache: 'plex_sessions' }
    expect(sampleValue(samples, 'cache_requests_total', { ...cache, result: 'hit' })).toBe(2)
    expect(sampleValue(samples, 'cache_requests_total', { ...cache, result: 'miss' })).toBe(1)
    expect(sampleValue(samples, 'cache_upstream_calls_saved_total', cache)).toBe(2)
    expect(sampleValue(samples, 'cache_loads_total', { ...cache, result: 'success' })).toBe(1)
    expect(sampleValue(samples, 'cache_load_duration_seconds_count', cache)).toBe(1)
    expect(sampleValue(samples, 'cache_entries', cache)).toBe(1)
    expect(sampleValue(samples, 'cache_bytes', cache)).toBeGreaterThan(100)
    expect(sampleValue(samples, 'cache_ttl_seconds', cache)).toBe(10)
    expect(sampleValue(samples, 'cache_age_seconds', cache)).toBeLessThan(10)
    // Declared but never read: present at zero.
    expect(sampleValue(samples, 'cache_requests_total', { cache: 'plex_recent_media', result: 'hit' })).toBe(0)

    expect(sampleValue(samples, 'plex_sessions_count', { state: 'playing' })).toBe(1)
    expect(sampleValue(samples, 'plex_sessions_count', { state: 'paused' })).toBe(1)
    const videoTranscodes = sessions.sessions.filter(
      (s: { transcode: { video_decision: string } }) => s.transcode.video_decision === 'transcode',
    ).length
    expect(sampleValue(samples, 'plex_video_transcode_sessions_count', { state: 'playing' })).toBe(videoTranscodes)
    expect(sampleValue(samples, 'plex_direct_play_sessions_count', { state: 'paused' })).toBe(1)
    const lanBandwidth = sessions.sessions.find((s: { stream: { location: string } }) => s.stream.location === 'lan')
      .stream.bandwidth
    expect(sampleValue(samples, 'plex_sessions_bandwidth_kbps', { location: 'lan' })).toBe(lanBandwidth)
    expect(sampleValue(samples, 'plex_media_count', { type: 'movie' })).toBe(live.total_movies)
    expect(sampleValue(samples, 'plex_media_count', { type: 'episode' })).toBe(live.total_episodes)
    expect(sampleValue(samples, 'plex_up')).toBe(1)
    expect(sampleValue(samples, 'plex_info', { version })).toBe(1)
    expect(sampleValue(samples, 'plex_requests_total', { endpoint: '/status/sessions', outcome: 'success' })).toBe(1)
    expect(
      sampleValue(samples, 'plex_requests_total', { endpoint: '/library/sections/{id}/all', outcome: 'success' }),
    ).toBeGreaterThan(1)
    expect(sampleValue(samples, 'plex_request_duration_seconds_count', { endpoint: '/status/sessions' })).toBe(1)

    expect(
      sampleValue(samples, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/plex/sessions',
        status_class: '2xx',
      }),
    ).toBe(3)
    expect(
      sampleValue(samples, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/services/:id',
        status_class: '4xx',
      }),
    ).toBe(1)
    const sessionsRoute = { method: 'GET', route: '/api/plex/sessions', status_class: '2xx' }
    expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { ...sessionsRoute, le: '+Inf' })).toBe(3)
    const buckets = samples
      .filter((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.route === '/api/plex/sessions')
      .map((s) => s.value)
    expect(buckets).toEqual([...buckets].sort((x, y) => x - y))
    expect(sampleValue(samples, 'http_request_duration_seconds_sum', sessionsRoute)).toBeGreaterThan(0)

    expect(sampleValue(samples, 'redis_enabled')).toBe(1)
    expect(sampleValue(samples, 'redis_breaker_state', { state: 'closed' })).toBe(1)
    expect(sampleValue(samples, 'redis_breaker_state', { state: 'open' })).toBe(0)
    expect(sampleValue(samples, 'redis_calls_total')).toBeGreaterThan(0)
    expect(sampleValue(samples, 'redis_lock_loads_total', { outcome: 'acquired' })).toBeGreaterThan(0)
    expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0)

    // Bounded labels only: no session, title, user, key, URL or token.
    const labelValues = new Set(
      samples.flatMap((s) =>
        Object.entries(s.labels)
          .filter(([name]) => name !== 'le')
          .map(([, value]) => value),
      ),
    )
    for (const secret of [
      PLEX_TOKEN,
      transcoding.sessionKey,
      transcoding.title,
      transcoding.userName,
      setup.sim.url,
      'plex:sessions',
    ]) {
      expect(labelValues.has(secret)).toBe(false)
    }
    for (const value of labelValues) expect(value.length).toBeLessThan(64)
    const text = await (await setup.fetch('/metrics')).text()
    expect(text).toContain('# TYPE http_request_duration_seconds histogram')
    expect(text).not.toContain(PLEX_TOKEN)
    expect(text).not.toContain(setup.sim.url)
  })

  it('counts stale serves and failed Plex calls by outcome while Plex fails', async () => {
    const t = await startService({ plex: true, clock: new ManualClock(), env: { CACHE_SESSIONS_TTL: '1' } })
    setup = t
    await setup.fetch('/api/plex/sessions')
    await setup.sim.control.setFault({ endpoint: '/status/sessions', status: 503 })
    await t.clock.advance(1_001) // past the 1 s TTL
    await eventually(
      'a stale serve',
      async () => (await setup!.fetch('/api/plex/sessions')).headers.get('x-cache') === 'STALE',
    )
    const samples = await scrape(setup.fetch)
    expect(
      sampleValue(samples, 'cache_requests_total', { cache: 'plex_sessions', result: 'stale' }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      sampleValue(samples, 'cache_loads_total', { cache: 'plex_sessions', result: 'failure' }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      sampleValue(samples, 'plex_requests_total', { endpoint: '/status/sessions', outcome: 'http' }),
    ).toBeGreaterThanOrEqual(1)
    expect(sampleValue(samples, 'redis_enabled')).toBe(0)
  })

  it('needs credentials when auth is on, unless METRICS_PUBLIC=true', async () => {
    const auth = { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'pw-metrics-1' }
    app = await startService({ env: auth })
    const bare = await fetch(`${app.url}/metrics`)
    expect(bare.status).toBe(401)
    expect(await bare.json()).toMatchObject({ detail: expect.stringContaining('Authentication required') })
    expect((await fetch(`${app.url}/metrics`, { headers: basic('admin', 'wrong') })).status).toBe(401)
    expect((await fetch(`${app.url}/metrics`, { headers: basic('admin', 'pw-metrics-1') })).status).toBe(200)
    await app.close()

    app = await startService({ env: { ...auth, METRICS_PUBLIC: 'true' } })
    const open = await fetch(`${app.url}/metrics`)
    expect(open.status).toBe(200)
    expect(await open.text()).toContain('cache_requests_total')
  })

  it('is not served with METRICS_ENABLED=false', async () => {
    app = await startService({ env: { METRICS_ENABLED: 'false' } })
    expect((await fetch(`${app.url}/metrics`)).status).toBe(404)
    expect((await fetch(`${app.url}/api/health`)).status).toBe(200)
  })
})
