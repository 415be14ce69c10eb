import { afterEach, describe, expect, it } from 'vitest'
import { countOf, json, type PlexApp, startService } from '../support/api-harness.js'

let setup: PlexApp | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

describe('GET /api/plex/stats/live', () => {
  it('counts users (without the system account) and movie, show, season and episode totals over all sections', async () => {
    setup = await startService({ plex: true, env: { PLEX_SERVER_NAME: 'Basement Plex' } })
    const state = setup.sim.control.state()
    const total = (sectionType: string, typeId: number) =>
      state.library.sections
        .filter((s) => s.type === sectionType)
        .reduce((n, s) => n + (s.counts[String(typeId)] ?? 0), 0)

    const response = await setup.fetch('/api/plex/stats/live')
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cache')).toBe('MISS')
    const body = await json(response)
    expect(body).toEqual({
      cached: false,
      cache_age: 0,
      timestamp: expect.stringMatching(/Z$/),
      total_users: state.accounts.filter((a) => a.id > 0).length,
      total_movies: total('movie', 1),
      total_tv_shows: total('show', 2),
      total_seasons: total('show', 3),
      total_episodes: total('show', 4),
      server_name: 'Basement Plex',
    })
    expect(body.total_movies).toBeGreaterThan(0)
    expect(body.total_episodes).toBeGreaterThan(body.total_tv_shows)
    // Only counts: every section request asked for a container of size 0.
    const movieSections = state.library.sections.filter((s) => s.type === 'movie').length
    expect(countOf(setup.sim, '/library/sections/:id/all')).toBe(movieSections + 3)
  })

  it('serves the second read from the cache, without Plex', async () => {
    setup = await startService({ plex: true })
    await setup.fetch('/api/plex/stats/live')
    const before = setup.sim.control.totalRequests()
    const again = await setup.fetch('/api/plex/stats/live')
    expect(again.headers.get('x-cache')).toBe('HIT')
    expect(setup.sim.control.totalRequests()).toBe(before)
  })

  it('is open without credentials when auth is on', async () => {
    setup = await startService({
      plex: true,
      env: { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'secret-pass' },
    })
    expect((await setup.fetch('/api/plex/stats/live')).status).toBe(200)
  })

  it('answers zeros with error "Plex not configured" when no server is set', async () => {
    setup = await startService({ plex: true, configured: false })
    const response = await setup.fetch('/api/plex/stats/live')
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      total_users: 0,
      total_movies: 0,
      total_tv_shows: 0,
      total_seasons: 0,
      total_episodes: 0,
      server_name: 'Plex Server',
      error: 'Plex not configured',
    })
    expect(setup.sim.control.totalRequests()).toBe(0)
  })

  it('answers 502 naming the token when Plex rejects it, with nothing cached', async () => {
    setup = await startService({ plex: true })
    await setup.sim.control.setFault({ status: 401 })
    const response = await setup.fetch('/api/plex/stats/live')
    expect(response.status).toBe(502)
    const body = await json(response)
    expect(body.detail).toMatch(/401.*token/)
    expect(body.message).toBe(body.detail)
    expect(setup.runtime.caches.get('plex_stats_live')!.stats().entries).toBe(0)
  })
})
