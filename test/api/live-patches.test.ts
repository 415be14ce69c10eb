import { afterEach, describe, expect, it } from 'vitest'
import { activityItem, sessionActivityItem } from '../../src/features/caches/activities.js'
import { sessionView, showArtwork } from '../../src/features/caches/sessions.js'
import { transcodeSessionView } from '../../src/features/caches/transcode-sessions.js'
import { createPlexClient } from '../../src/plex/index.js'
import { mulberry32 } from '../../sim/random.js'
import { type PlexApp, type Raw, startService } from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'
import { json } from '../support/api-harness.js'

// The live caches patched from the simulator's notifications must equal, field for field, what
// a reload at that moment gives, apart from what PMS does not push (transcode speed and
// progress: `transcode` of a session, `transcodeSession` in an activity's raw data).

const EVENTS = 200
// TTLs far beyond the test: anything that changes comes from a notification.
const LONG_TTLS = { CACHE_SESSIONS_TTL: '600', CACHE_ACTIVITIES_TTL: '600' }

let setup: PlexApp | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

/** What a reload would give now, built by the caches' own mapping from the simulator's answers. */
async function reloadNow(s: PlexApp): Promise<{ sessions: Raw; activities: Raw }> {
  const client = createPlexClient({ baseUrl: s.sim.url, token: s.sim.token })
  const signal = new AbortController().signal
  const [sessions, activities] = await Promise.all([client.sessions(signal), client.activities(signal)])
  const shows = await showArtwork(client, sessions, signal)
  const views = sessions.map((session) => sessionView(session, client.baseUrl, shows))
  return {
    sessions: comparable({ error: false, sessions: views, total: views.length }),
    activities: comparable({
      error: false,
      activities: [...activities.map(activityItem), ...sessions.map(sessionActivityItem)],
    }),
  }
}

/** A value as JSON, without what PMS does not push and what the answer adds around the value. */
function comparable(value: unknown): Raw {
  const copy = JSON.parse(JSON.stringify(value)) as Raw
  for (const field of ['cached', 'cache_age', 'timestamp', 'stale']) delete copy[field]
  for (const session of copy.sessions ?? []) delete session.transcode
  for (const item of copy.activities ?? [])
    if (item.raw_data && typeof item.raw_data === 'object') delete item.raw_data.transcodeSession
  return copy
}

async function served(s: PlexApp): Promise<{ sessions: Raw; activities: Raw }> {
  const [sessions, activities] = await Promise.all([
    s.fetch('/api/plex/sessions').then(json),
    s.fetch('/api/plex/activities').then(json),
  ])
  return { sessions: comparable(sessions), activities: comparable(activities) }
}

describe('live caches patched from notifications equal a reload, field for field', () => {
  it(`over ${EVENTS} random plays, pauses, resumes, seeks, player reports, activities, starts and stops`, async () => {
    setup = await startService({ plex: true, env: LONG_TTLS })
    const { sim } = setup
    const control = sim.control
    control.startSession({ kind: 'episode', transcode: true, viewOffset: 120_000 })
    control.startSession({ kind: 'movie', multipleMedia: true })
    control.startSession({ kind: 'track' })
    control.startActivity({ type: 'library.update.section', ticks: 40 })
    const { runtime } = setup
    const sessionsCache = runtime.caches.get('plex_sessions')!
    const activitiesCache = runtime.caches.get('plex_activities')!
    await served(setup)
    runtime.push.start()
    await eventually('the stream is up', () => runtime.push.streaming)
    await eventually(
      'the reload that follows a connect is done',
      () => sessionsCache.stats().loads === 2 && activitiesCache.stats().loads === 2,
    )

    const rng = mulberry32(42)
    const kinds = { patched: 0, reloaded: 0 }
    let reloadedBefore = false
    for (let i = 0; i < EVENTS; i++) {
      const sessions = control.state().sessions
      const activities = control.state().activities
      const anySession = () => sessions[Math.floor(rng() * sessions.length)]!.sessionKey
      const r = rng()
      let what: string
      let reloads = false
      if (sessions.length === 0 || r < 0.05) {
        control.startSession({
          kind: (['movie', 'episode', 'track'] as const)[Math.floor(rng() * 3)],
          transcode: rng() < 0.4,
        })
        what = 'start'
        reloads = true
      } else if (r < 0.1 && sessions.length > 1) {
        control.stopSession(anySession())
        what = 'stop'
        reloads = true
      } else if (r < 0.3) {
        const key = anySession()
        const paused = sessions.find((s) => s.sessionKey === key)!.state === 'paused'
        if (paused) control.resumeSession(key)
        else control.pauseSession(key)
        what = paused ? 'resume' : 'pause'
      } else if (r < 0.55) {
        const key = anySession()
        control.seekSession(key, rng() * sessions.find((s) => s.sessionKey === key)!.duration)
        what = 'seek'
      } else if (r < 0.9) {
        control.advance(10) // one report per player, activity progress, maybe an end of item or activity
        what = 'player reports'
        reloads = true // a session reaching its end stops
      } else if (r < 0.95 || activities.length === 0) {
        control.startActivity({ type: 'library.refresh.items', ticks: 3 + Math.floor(rng() * 5) })
        what = 'activity start'
      } else {
        control.endActivity(activities[0]!.uuid)
        what = 'activity end'
      }
      const loadsBefore = sessionsCache.stats().loads + activitiesCache.stats().loads
      const expected = await reloadNow(setup)
      let last: { sessions: Raw; activities: Raw } | undefined
      try {
        await eventually(
          `the service shows event ${i} (${what})`,
          async () => {
            last = await served(setup!)
            return JSON.stringify(last) === JSON.stringify(expected)
          },
          3_000,
        )
      } catch (error) {
        expect(last, `event ${i} (${what})`).toEqual(expected)
        throw error
      }
      const loaded = sessionsCache.stats().loads + activitiesCache.stats().loads - loadsBefore
      // A reload may be followed by one more (a second notification of the same stop arrived
      // while it loaded), landing during the next event: that one is not judged.
      if (!reloads && !reloadedBefore) expect(loaded, `event ${i} (${what}) is patched, not reloaded`).toBe(0)
      reloadedBefore = reloads
      kinds[loaded === 0 ? 'patched' : 'reloaded']++
    }
    expect(kinds.patched, 'most events were patches').toBeGreaterThan(EVENTS * 0.6)
  }, 120_000)

  it('a change missed while the stream was down shows once it is back, and the values stay a reload’s', async () => {
    setup = await startService({ plex: true, env: LONG_TTLS })
    const { sim } = setup
    const playing = sim.control.startSession({ kind: 'movie' })
    const { runtime } = setup
    await served(setup)
    runtime.push.start()
    await eventually('the stream is up', () => runtime.push.streaming)

    sim.control.dropNotificationClients() // mid-playback
    sim.control.pauseSession(playing.sessionKey) // nobody hears this
    sim.control.seekSession(playing.sessionKey, 600_000)
    await eventually('the stream is down', () => !runtime.push.streaming, 2_000)
    await eventually(
      'the missed pause shows after the reconnect',
      async () => (await served(setup!)).sessions.sessions[0]?.playback.state === 'paused',
      10_000,
    )
    expect(await served(setup)).toEqual(await reloadNow(setup))
  })
})

describe('transcode sessions patched from transcodeSession.update equal a reload, field for field', () => {
  it('over 30 progress reports of two transcodes, with no Plex call; a start and an end reload', async () => {
    setup = await startService({ plex: true, env: { ...LONG_TTLS, CACHE_TRANSCODE_SESSIONS_TTL: '600' } })
    const { sim, runtime } = setup
    const control = sim.control
    control.startSession({ kind: 'movie', transcode: true, viewOffset: 0 })
    control.startSession({ kind: 'episode', transcode: true, viewOffset: 0 })
    const cache = runtime.caches.get('plex_transcode_sessions')!
    const read = async () => comparable(await setup!.fetch('/api/plex/transcode/sessions').then(json))
    const reload = async () => {
      const client = createPlexClient({ baseUrl: sim.url, token: sim.token })
      const views = (await client.transcodeSessions(new AbortController().signal)).map(transcodeSessionView)
      return comparable({ error: false, transcode_sessions: views, total: views.length })
    }
    expect((await read()).total).toBe(2)
    runtime.push.start()
    await eventually('the stream is up', () => runtime.push.streaming)
    await eventually('the reload that follows a connect is done', () => cache.stats().loads === 2)

    await eventually('its call reached the simulator', () => setup!.counts()['/transcode/sessions'] === 2)
    const callsBefore = 2
    for (let i = 0; i < 30; i++) {
      const before = JSON.stringify(await read())
      control.advance(10) // one transcodeSession.update per transcode: progress, throttled
      const expected = await reload()
      expect(JSON.stringify(expected), `report ${i} changes the transcodes`).not.toBe(before)
      await eventually(
        `report ${i} is served`,
        async () => JSON.stringify(await read()) === JSON.stringify(expected),
        3_000,
      )
    }
    // The reloads above are the test's own client; the service made none.
    expect((setup.counts()['/transcode/sessions'] ?? 0) - callsBefore, 'the test’s own reads only').toBe(30)
    expect(cache.stats().loads, 'patched, not reloaded').toBe(2)

    control.startSession({ kind: 'movie', transcode: true })
    await eventually('a start reloads', async () => (await read()).total === 3)
    const playing = control.state().sessions.find((s) => s.transcoding)!
    control.stopSession(playing.sessionKey)
    await eventually('an end reloads', async () => (await read()).total === 2)
    expect(await read()).toEqual(await reload())
    expect(cache.stats().loads).toBeGreaterThanOrEqual(4)
  }, 60_000)
})
