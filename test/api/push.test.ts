import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { createCacheRegistry, ManualClock, type CacheRegistry } from '../../src/cache/index.js'
import { PlexConnection } from '../../src/plex/plex-connection.js'
import { CACHES } from '../../src/features/caches/index.js'
import { PushInvalidation } from '../../src/features/plex/push-invalidation.js'
import type { NotificationEvents, NotificationListener } from '../../src/plex/index.js'
import { startSimulator } from '../../sim/index.js'
import { json, jsonInit, type PlexApp, startPlexApp } from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'

let setup: PlexApp | undefined
const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  await setup?.close()
  setup = undefined
  for (const close of closers.splice(0).reverse()) await close()
})

// TTLs far beyond the test's length: whatever shows up early came from a push.
const LONG_TTLS = { CACHE_SESSIONS_TTL: '600', CACHE_ACTIVITIES_TTL: '600', CACHE_RECENT_MEDIA_TTL: '600', CACHE_LIVE_STATS_TTL: '600' }

async function startListening(): Promise<PlexApp> {
  const s = await startPlexApp({ env: LONG_TTLS })
  s.runtime.push.start()
  await eventually('the push listener is connected', () => s.sim.control.state().notificationClients.websocket === 1)
  return s
}

const read = async (s: PlexApp, path: string) => {
  const response = await s.fetch(path)
  return { cache: response.headers.get('x-cache'), body: await json(response) }
}

describe('push refresh over the Plex notification stream', () => {
  it('shows a session that starts, pauses and stops long before the TTL, and no reader waits for Plex', async () => {
    setup = await startListening()
    expect((await read(setup, '/api/plex/sessions')).body.total).toBe(0)
    // Every later read answers from memory (HIT) while the pushed change reloads behind it.
    const xCache = new Set<string | null>()
    const sessions = async () => {
      const answer = await read(setup!, '/api/plex/sessions')
      xCache.add(answer.cache)
      return answer.body
    }
    expect((await sessions()).total).toBe(0)

    const started = setup.sim.control.startSession({ kind: 'movie', transcode: false })
    await eventually('the new session is served', async () => (await sessions()).total === 1)
    setup.sim.control.pauseSession(started.sessionKey)
    await eventually('the pause is served', async () => (await sessions()).sessions[0].playback.state === 'paused')
    setup.sim.control.stopSession(started.sessionKey)
    await eventually('the stop is served', async () => (await sessions()).total === 0)
    expect([...xCache]).toEqual(['HIT'])
    expect(setup.runtime.caches.get('plex_sessions')!.stats()).toMatchObject({ misses: 1, coalesced: 0 })
  })

  it('does not refresh on progress reports (same state, transcode updates)', async () => {
    setup = await startListening()
    // An event for another cache, sent after others on the same stream, marks when those were handled.
    const handled = async (s: PlexApp) => {
      await read(s, '/api/plex/activities') // cached without the new activity: it shows only after a push
      const scan = s.sim.control.startActivity({ type: 'library.update.section', ticks: 50 })
      await eventually('the activity is served', async () => (await read(s, '/api/plex/activities')).body.activities.some((a: { uuid: string }) => a.uuid === scan.uuid))
    }
    setup.sim.control.startSession({ kind: 'episode', transcode: true })
    await handled(setup)
    expect((await read(setup, '/api/plex/sessions')).body.total).toBe(1)
    expect((await read(setup, '/api/plex/sessions')).cache).toBe('HIT')

    setup.sim.control.advance(30) // three player reports and three transcode updates
    await handled(setup)

    const sessions = await read(setup, '/api/plex/sessions')
    expect(sessions.cache).toBe('HIT')
    expect(sessions.body.sessions[0].playback.position_ms).toBe(0)
  })

  it('refreshes recent media and live stats when new media finished processing', async () => {
    setup = await startListening()
    const before = await read(setup, '/api/plex/stats/live')
    await read(setup, '/api/plex/media/recent')
    setup.sim.control.advance(3_600)
    const movie = setup.sim.control.addMedia({ type: 'movie', title: 'Pushed Premiere' })
    await eventually('the new movie heads recent media', async () => (await read(setup!, '/api/plex/media/recent')).body.media[0].title === movie.title)
    await eventually('the movie count grew', async () => (await read(setup!, '/api/plex/stats/live')).body.total_movies === before.body.total_movies + 1)
  })

  it('refreshes every Plex cache in use after the stream reconnects, keeping its value meanwhile', async () => {
    setup = await startListening()
    const paths = ['/api/plex/sessions', '/api/plex/activities', '/api/plex/users/count']
    for (const path of paths) await read(setup, path)
    setup.sim.control.dropNotificationClients()
    const { caches } = setup.runtime
    const names = ['plex_sessions', 'plex_activities', 'plex_users_count']
    await eventually('the caches are refreshed after the reconnect', () => names.every((name) => caches.get(name)!.stats().refreshes >= 1), 8_000)
    for (const name of names) expect(caches.get(name)!.stats(), name).toMatchObject({ entries: 1, loads: 2 })
    for (const path of paths) expect((await read(setup, path)).cache, path).toBe('HIT')
  })

  it('follows the Plex server when the config changes', async () => {
    setup = await startListening()
    const sim2 = await startSimulator({ port: 0, token: 'other-sim-token-77', seed: 3, items: 200, speed: 0, liveSessions: false })
    closers.push(() => sim2.close())
    expect((await setup.fetch('/api/plex/config', jsonInit('POST', { url: sim2.url, token: 'other-sim-token-77' }))).status).toBe(200)
    await eventually('the listener moved to the new server', () => sim2.control.state().notificationClients.websocket === 1)
    expect(setup.sim.control.state().notificationClients.websocket).toBe(0)
    expect((await read(setup, '/api/plex/sessions')).body.total).toBe(0)
    sim2.control.startSession({ kind: 'track' })
    await eventually('the new server’s session is served', async () => (await read(setup!, '/api/plex/sessions')).body.total === 1)
  })
})

/** Stands in for the notification stream, so each event and each timer is under the test's control. */
class ScriptedStream extends EventEmitter<NotificationEvents> {
  closed = false
  async close(): Promise<void> {
    this.closed = true
  }
}

const SCRIPTED_CACHES = ['plex_sessions', 'plex_activities', 'plex_recent_media', 'plex_stats_live', 'plex_users_count']

function scripted(names = SCRIPTED_CACHES): { push: PushInvalidation; stream: () => ScriptedStream; clock: ManualClock; refreshed: string[]; plex: PlexConnection } {
  const registry: CacheRegistry = createCacheRegistry()
  closers.push(() => registry.close())
  for (const name of names) {
    registry.define({ name, key: name, ttlMs: 60_000, load: () => 1 })
  }
  const refreshed: string[] = []
  const refresh = registry.refresh.bind(registry)
  registry.refresh = (name: string, args?: unknown) => {
    refreshed.push(name)
    return refresh(name, args)
  }
  const plex = new PlexConnection({}, { url: 'http://127.0.0.1:1', token: 'scripted-token' })
  const clock = new ManualClock()
  const streams: ScriptedStream[] = []
  const push = new PushInvalidation({
    plex,
    registry,
    caches: CACHES,
    clock,
    listen: () => {
      const stream = new ScriptedStream()
      streams.push(stream)
      return stream as unknown as NotificationListener
    },
  })
  push.start()
  closers.push(() => push.stop())
  return { push, stream: () => streams[streams.length - 1]!, clock, refreshed, plex }
}

const playing = (sessionKey: string, state: string, viewOffset = 0) => ({ sessionKey, state, viewOffset })

describe('push refresh rules', () => {
  it('costs one refresh per cache for a burst of events within the debounce window', async () => {
    const { stream, clock, refreshed } = scripted()
    stream().emit('playing', [playing('1', 'playing')])
    stream().emit('playing', [playing('2', 'playing')])
    stream().emit('playing', [playing('1', 'paused')])
    stream().emit('activity', [{ event: 'started', uuid: 'a' }])
    await clock.advance(249)
    expect(refreshed).toEqual([])
    await clock.advance(1)
    expect(refreshed.sort()).toEqual(['plex_activities', 'plex_sessions'])
  })

  it('ignores progress reports and transcode updates, but not a changed state, a stop or a transcode start or end', async () => {
    const { stream, clock, refreshed } = scripted()
    stream().emit('playing', [playing('1', 'playing')])
    await clock.advance(300)
    refreshed.length = 0

    for (let offset = 10_000; offset <= 60_000; offset += 10_000) {
      stream().emit('playing', [playing('1', 'playing', offset)])
      stream().emit('transcodeSession', { event: 'update', sessions: [] })
      await clock.advance(300)
    }
    expect(refreshed).toEqual([])

    const steps: Array<() => void> = [
      () => stream().emit('playing', [playing('1', 'buffering')]),
      () => stream().emit('playing', [playing('1', 'stopped')]),
      () => stream().emit('transcodeSession', { event: 'start', sessions: [] }),
      () => stream().emit('transcodeSession', { event: 'end', sessions: [] }),
    ]
    for (const step of steps) {
      step()
      await clock.advance(300)
      expect(refreshed.splice(0).sort()).toEqual(['plex_activities', 'plex_sessions'])
    }
  })

  it('refreshes transcode sessions on every transcode notification, progress included, and nothing else on progress', async () => {
    const { stream, clock, refreshed } = scripted([...SCRIPTED_CACHES, 'plex_transcode_sessions'])
    for (const event of ['start', 'update', 'end'] as const) {
      stream().emit('transcodeSession', { event, sessions: [] })
      await clock.advance(300)
      const expected = event === 'update' ? ['plex_transcode_sessions'] : ['plex_activities', 'plex_sessions', 'plex_transcode_sessions']
      expect(refreshed.splice(0).sort(), event).toEqual(expected)
    }
  })

  it('refreshes recent media and live stats on new (5) or deleted (9) media only', async () => {
    const { stream, clock, refreshed } = scripted()
    stream().emit('timeline', [{ state: 0 }, { state: 1 }, { state: 3 }])
    await clock.advance(300)
    expect(refreshed).toEqual([])
    stream().emit('timeline', [{ state: 5, itemID: '1' }])
    await clock.advance(300)
    expect(refreshed.splice(0).sort()).toEqual(['plex_recent_media', 'plex_stats_live'])
    stream().emit('timeline', [{ state: 9, itemID: '1' }])
    await clock.advance(300)
    expect(refreshed.splice(0).sort()).toEqual(['plex_recent_media', 'plex_stats_live'])
  })

  it('refreshes every plex_* cache on a reconnect, and listens to nothing once Plex is unset', async () => {
    const { push, stream, clock, refreshed, plex } = scripted()
    stream().emit('reconnected', { transport: 'websocket', downtimeMs: 5_000 })
    await clock.advance(300)
    expect(refreshed.sort()).toEqual(['plex_activities', 'plex_recent_media', 'plex_sessions', 'plex_stats_live', 'plex_users_count'])

    const old = stream()
    plex.update(undefined)
    await eventually('the old stream is closed', () => old.closed)
    expect(push.listening).toBe(false)
  })
})
