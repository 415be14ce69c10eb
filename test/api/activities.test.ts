import { ManualClock } from '../../src/cache/index.js'
import { afterEach, describe, expect, it } from 'vitest'
import { countOf, json, PLEX_TOKEN, type PlexApp, type Raw, simJson, startService } from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'

let setup: PlexApp | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

describe('GET /api/plex/activities', () => {
  it('lists PMS activities, then one entry per playing session, in Komandorr shape', async () => {
    setup = await startService({ plex: true })
    const { control } = setup.sim
    const scan = control.startActivity({ type: 'library.update.section', librarySectionID: 1, progress: 0 })
    const episode = control.startSession({ kind: 'episode', transcode: true, viewOffset: 600_000 })
    const movie = control.startSession({ kind: 'movie', transcode: false, paused: true, viewOffset: 1_234_567 })
    const track = control.startSession({ kind: 'track', transcode: false })

    const response = await setup.fetch('/api/plex/activities')
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body.error).toBe(false)
    expect(body.cached).toBe(false)
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(body.activities).toHaveLength(4)

    const [activity, ...sessions] = body.activities
    expect(activity).toEqual({
      uuid: scan.uuid,
      title: scan.title,
      subtitle: scan.subtitle,
      type: 'library.update.section',
      progress: 0,
      raw_data: expect.objectContaining({
        uuid: scan.uuid,
        type: 'library.update.section',
        Context: { librarySectionID: 1 },
      }),
    })

    const raw = await rawSessions(setup)
    const showTitle = raw.find((s) => s.sessionKey === episode.sessionKey)!.grandparentTitle
    expect(sessions.map((s: { uuid: string }) => s.uuid)).toEqual([
      episode.sessionKey,
      movie.sessionKey,
      track.sessionKey,
    ])
    expect(sessions[0]).toMatchObject({
      title: showTitle,
      subtitle: episode.title,
      type: 'transcode',
      progress: pct(600_000, episode.duration),
    })
    expect(sessions[1]).toMatchObject({
      title: movie.title,
      subtitle: movie.title,
      type: 'pause',
      progress: pct(1_234_567, movie.duration),
    })
    expect(sessions[2]).toMatchObject({ title: track.title, subtitle: track.title, type: 'stream', progress: 0 })
    expect(sessions[0].raw_data).toMatchObject({ sessionKey: episode.sessionKey, type: 'episode' })
    expect(JSON.stringify(body)).not.toContain(PLEX_TOKEN)
  })

  it('serves the alias /api/downloads from the same cache, one /activities and one /status/sessions call per load', async () => {
    setup = await startService({ plex: true })
    setup.sim.control.startSession({ kind: 'movie' })
    setup.sim.control.resetCounts()

    const first = await setup.fetch('/api/plex/activities')
    const second = await setup.fetch('/api/downloads')
    expect(first.headers.get('x-cache')).toBe('MISS')
    expect(second.headers.get('x-cache')).toBe('HIT')
    const [a, b] = [await json(first), await json(second)]
    expect(b.activities).toEqual(a.activities)
    expect(b.cached).toBe(true)
    expect(setup.sim.control.requestCounts()).toEqual({ '/activities': 1, '/status/sessions': 1 })
  })

  it('answers 304 to a matching If-None-Match, with the cache headers', async () => {
    setup = await startService({ plex: true })
    const first = await setup.fetch('/api/plex/activities')
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^".+"$/)
    const again = await setup.fetch('/api/plex/activities', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.headers.get('x-cache')).toBe('HIT')
    expect(again.headers.get('age')).toMatch(/^\d+$/)
    expect(await again.text()).toBe('')
  })

  it('answers the not-configured form without calling Plex or caching anything', async () => {
    setup = await startService({ plex: true, configured: false })
    const response = await setup.fetch('/api/plex/activities')
    expect(response.status).toBe(200)
    expect(response.headers.get('x-cache')).toBeNull()
    expect(await json(response)).toEqual({ error: true, message: 'Plex not configured', activities: [] })
    expect(setup.sim.control.totalRequests()).toBe(0)
    expect(setup.runtime.caches.get('plex_activities')!.stats()).toMatchObject({ loads: 0, entries: 0 })
  })

  it('answers 503 with detail, message, error and an empty list when Plex is down and nothing was loaded yet; real data once Plex is back', async () => {
    const t = await startService({ plex: true, clock: new ManualClock() })
    setup = t
    const scan = setup.sim.control.startActivity({ type: 'library.refresh.items' })
    await setup.sim.control.setFault({ mode: 'outage' })

    const down = await setup.fetch('/api/plex/activities')
    expect(down.status).toBe(503)
    const body = await json(down)
    expect(body).toEqual({
      detail: expect.stringContaining('Plex activities'),
      message: body.detail,
      error: true,
      activities: [],
    })
    expect(body.detail).toMatch(/unreachable/)

    await setup.sim.control.clearFaults()
    await t.clock.advance(1_000) // the first backoff step after a failed load
    const recovered = await setup.fetch('/api/plex/activities')
    expect(recovered.status).toBe(200)
    expect((await json(recovered)).activities.map((a: { uuid: string }) => a.uuid)).toEqual([scan.uuid])
  })

  it('serves the last good activities marked stale while Plex is down, and fresh ones after', async () => {
    const t = await startService({ plex: true, clock: new ManualClock(), env: { CACHE_ACTIVITIES_TTL: '1' } })
    setup = t
    const scan = setup.sim.control.startActivity({ type: 'library.update.section' })
    const warm = await json(await setup.fetch('/api/plex/activities'))
    await setup.sim.control.setFault({ mode: 'outage' })
    await t.clock.advance(1_001) // past the 1 s TTL

    const stale = await setup.fetch('/api/plex/activities')
    expect(stale.status).toBe(200)
    expect(stale.headers.get('x-cache')).toBe('STALE')
    const body = await json(stale)
    expect(body).toMatchObject({ stale: true, cached: true, error: false })
    expect(body.activities).toEqual(warm.activities)
    expect(body.activities[0].uuid).toBe(scan.uuid)

    setup.sim.control.endActivity(scan.uuid)
    await setup.sim.control.clearFaults()
    await eventually('fresh activities replace the stale ones', async () => {
      await t.clock.advance(1_000) // through the backoff the outage left
      const response = await setup!.fetch('/api/plex/activities')
      const fresh = await json(response)
      return response.headers.get('x-cache') !== 'STALE' && fresh.activities.length === 0 && fresh.stale === undefined
    })
    expect(countOf(setup.sim, '/activities')).toBeGreaterThanOrEqual(2)
  })
})

const pct = (offset: number, duration: number) => Math.round((offset / duration) * 10_000) / 100

/** `/status/sessions` as the simulator sends it (JSON), to compare against without our parser. */
async function rawSessions(s: PlexApp): Promise<Raw[]> {
  return (await simJson(s.sim, '/status/sessions')).Metadata ?? []
}
