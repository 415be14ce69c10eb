import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { createCacheRegistry, ManualClock, type CacheRegistry } from '../../src/cache/index.js'
import { PlexConnection } from '../../src/plex/plex-connection.js'
import { CACHES } from '../../src/features/caches/index.js'
import { patchOn, type AnyCacheSpec, type PlexChange } from '../../src/features/caches/declaration.js'
import { transcodeSessionView, type TranscodeSessionsValue } from '../../src/features/caches/transcode-sessions.js'
import { PATCH_BATCH_MS, PushInvalidation, REFETCH_AFTER_MS } from '../../src/features/plex/push-invalidation.js'
import type { NotificationEvents, NotificationListener } from '../../src/plex/index.js'
import { startSimulator } from '../../sim/index.js'
import { json, jsonInit, type PlexApp, startService } from '../support/api-harness.js'
import { eventually, sleep } from '../support/eventually.js'

let setup: PlexApp | undefined
const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  await setup?.close()
  setup = undefined
  for (const close of closers.splice(0).reverse()) await close()
})

// TTLs far beyond the test's length: whatever shows up early came from a push.
const LONG_TTLS = {
  CACHE_SESSIONS_TTL: '600',
  CACHE_ACTIVITIES_TTL: '600',
  CACHE_RECENT_MEDIA_TTL: '600',
  CACHE_LIVE_STATS_TTL: '600',
}

async function startListening(): Promise<PlexApp> {
  const s = await startService({ plex: true, env: LONG_TTLS })
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

  it('patches progress reports into the cached sessions with no Plex call', async () => {
    setup = await startListening()
    // An event for another cache, sent after others on the same stream, marks when those were handled.
    const handled = async (s: PlexApp) => {
      await read(s, '/api/plex/activities') // cached without the new activity: it shows only after a push
      const scan = s.sim.control.startActivity({ type: 'library.update.section', ticks: 50 })
      await eventually('the activity is served', async () =>
        (await read(s, '/api/plex/activities')).body.activities.some((a: { uuid: string }) => a.uuid === scan.uuid),
      )
    }
    const loadsNow = () => setup!.runtime.caches.get('plex_sessions')!.stats().loads
    setup.sim.control.startSession({ kind: 'episode', transcode: true })
    await handled(setup)
    expect((await read(setup, '/api/plex/sessions')).body.total).toBe(1)
    // The new session's own reloads (debounced, 250 ms) are over once the count holds for 600 ms.
    let settled = loadsNow()
    let since = performance.now()
    await eventually('the session start has been reloaded', () => {
      if (loadsNow() !== settled) [settled, since] = [loadsNow(), performance.now()]
      return performance.now() - since >= 600
    })
    const loads = loadsNow()

    setup.sim.control.advance(30) // three player reports and three transcode updates
    await handled(setup)

    const sessions = await read(setup, '/api/plex/sessions')
    expect(sessions.cache).toBe('HIT')
    expect(sessions.body.sessions[0].playback.position_ms).toBe(30_000)
    expect(setup.runtime.caches.get('plex_sessions')!.stats().loads, 'patched, not reloaded').toBe(loads)
  })

  it('refreshes recent media and live stats when new media finished processing', async () => {
    setup = await startListening()
    const before = await read(setup, '/api/plex/stats/live')
    await read(setup, '/api/plex/media/recent')
    setup.sim.control.advance(3_600)
    const movie = setup.sim.control.addMedia({ type: 'movie', title: 'Pushed Premiere' })
    await eventually(
      'the new movie heads recent media',
      async () => (await read(setup!, '/api/plex/media/recent')).body.media[0].title === movie.title,
    )
    await eventually(
      'the movie count grew',
      async () => (await read(setup!, '/api/plex/stats/live')).body.total_movies === before.body.total_movies + 1,
    )
  })

  it('refreshes every Plex cache in use after the stream reconnects, keeping its value meanwhile', async () => {
    setup = await startListening()
    const paths = ['/api/plex/sessions', '/api/plex/activities', '/api/plex/users/count']
    for (const path of paths) await read(setup, path)
    const { caches } = setup.runtime
    const names = ['plex_sessions', 'plex_activities', 'plex_users_count']
    await sleep(400) // the live caches' reload after the first connect
    const loads = names.map((name) => caches.get(name)!.stats().loads)
    setup.sim.control.dropNotificationClients()
    await eventually(
      'the caches are refreshed after the reconnect',
      () => names.every((name, i) => caches.get(name)!.stats().loads === loads[i]! + 1),
      8_000,
    )
    for (const name of names) expect(caches.get(name)!.stats(), name).toMatchObject({ entries: 1 })
    for (const path of paths) expect((await read(setup, path)).cache, path).toBe('HIT')
  })

  it('follows the Plex server when the config changes', async () => {
    setup = await startListening()
    const sim2 = await startSimulator({
      port: 0,
      token: 'other-sim-token-77',
      seed: 3,
      items: 200,
      speed: 0,
      liveSessions: false,
    })
    closers.push(() => sim2.close())
    expect(
      (await setup.fetch('/api/plex/config', jsonInit('POST', { url: sim2.url, token: 'other-sim-token-77' }))).status,
    ).toBe(200)
    await eventually(
      'the listener moved to the new server',
      () => sim2.control.state().notificationClients.websocket === 1,
    )
    expect(setup.sim.control.state().notificationClients.websocket).toBe(0)
    expect((await read(setup, '/api/plex/sessions')).body.total).toBe(0)
    sim2.control.startSession({ kind: 'track' })
    await eventually(
      'the new server’s session is served',
      async () => (await read(setup!, '/api/plex/sessions')).body.total === 1,
    )
  })
})

/** Stands in for the notification stream, so each event and each timer is under the test's control. */
class ScriptedStream extends EventEmitter<NotificationEvents> {
  closed = false
  isConnected = false
  async close(): Promise<void> {
    this.closed = true
  }
}

/** The names `registry.refresh` is called with, in order. */
function recordRefreshes(registry: CacheRegistry): string[] {
  const refreshed: string[] = []
  const refresh = registry.refresh.bind(registry)
  registry.refresh = (name: string, args?: unknown) => {
    refreshed.push(name)
    return refresh(name, args)
  }
  return refreshed
}

/** Push handling for `caches` over scripted streams (a new one per connect), started, stopped after the test. */
function scriptedPush(registry: CacheRegistry, caches: readonly AnyCacheSpec[], clock: ManualClock) {
  const plex = new PlexConnection({}, { url: 'http://127.0.0.1:1', token: 'scripted-token' })
  const streams: ScriptedStream[] = []
  const push = new PushInvalidation({
    plex,
    registry,
    caches,
    clock,
    listen: () => {
      const stream = new ScriptedStream()
      streams.push(stream)
      return stream as unknown as NotificationListener
    },
  })
  push.start()
  closers.push(() => push.stop())
  return { push, plex, stream: () => streams[streams.length - 1]! }
}

const SCRIPTED_CACHES = ['plex_sessions', 'plex_activities', 'plex_recent_media', 'plex_stats_live', 'plex_users_count']

function scripted(names = SCRIPTED_CACHES): {
  push: PushInvalidation
  stream: () => ScriptedStream
  clock: ManualClock
  refreshed: string[]
  plex: PlexConnection
  registry: CacheRegistry
} {
  const registry: CacheRegistry = createCacheRegistry()
  closers.push(() => registry.close())
  for (const name of names) {
    registry.define({ name, key: name, ttlMs: 60_000, load: () => 1 })
  }
  const refreshed = recordRefreshes(registry)
  const clock = new ManualClock()
  return { ...scriptedPush(registry, CACHES, clock), clock, refreshed, registry }
}

/** A live value as small as can be: each session's state and position, by key. */
type Players = Record<string, { state: string; at: number }>

const TTL = 10_000

/** One patched cache (`Players`, patched from `playing`), on a manual clock, to watch the stream's rules at work. */
function scriptedLive() {
  const clock = new ManualClock()
  const registry: CacheRegistry = createCacheRegistry({ clock, random: () => 0 })
  closers.push(() => registry.close())
  let players: Players = {}
  const loads = { count: 0 }
  const sessions = registry.define<Players>({
    name: 'plex_sessions',
    key: 'plex_sessions',
    ttlMs: TTL,
    load: () => {
      loads.count++
      return players
    },
  })
  const refreshed = recordRefreshes(registry)
  const patchPlayers = (value: Players, change: PlexChange): Players | undefined => {
    if (change.name !== 'playing') return undefined
    const next = { ...value }
    for (const report of change.items) {
      if (next[report.sessionKey] === undefined || report.state === 'stopped') return undefined
      next[report.sessionKey] = { state: report.state, at: report.viewOffset ?? 0 }
    }
    return next
  }
  const spec = {
    name: 'plex_sessions',
    plexServer: 'fetched',
    push: [patchOn(['playing'], patchPlayers)],
  } as unknown as AnyCacheSpec
  const setPlayers = (next: Players) => (players = next)
  return { ...scriptedPush(registry, [spec], clock), clock, refreshed, sessions, loads, setPlayers }
}

const playing = (sessionKey: string, state: string, viewOffset = 0) => ({ sessionKey, state, viewOffset })

describe('push rules', () => {
  it('costs one refresh per cache for a burst of events within the debounce window', async () => {
    const { stream, clock, refreshed } = scripted()
    stream().emit('playing', [playing('1', 'playing')])
    stream().emit('playing', [playing('2', 'playing')])
    stream().emit('playing', [playing('1', 'paused')])
    stream().emit('transcodeSession', { event: 'start', sessions: [] })
    await clock.advance(249)
    expect(refreshed).toEqual([])
    await clock.advance(1)
    expect(refreshed.sort()).toEqual(['plex_activities', 'plex_sessions'])
  })

  it('patches reports of known sessions with no load; a stop, an unknown session, a transcode start or a dropped frame reloads', async () => {
    const { stream, clock, refreshed, sessions, loads, setPlayers } = scriptedLive()
    setPlayers({ '1': { state: 'playing', at: 0 } })
    await sessions.read()
    for (let offset = 10_000; offset <= 30_000; offset += 10_000) {
      stream().emit('playing', [playing('1', 'playing', offset)])
      stream().emit('transcodeSession', { event: 'update', sessions: [] })
      await clock.advance(300)
    }
    stream().emit('playing', [playing('1', 'paused', 31_000)])
    await clock.advance(300)
    expect(sessions.peek()?.value).toEqual({ '1': { state: 'paused', at: 31_000 } })
    expect(refreshed).toEqual([])
    expect(loads.count).toBe(1)

    const steps: Array<[string, () => void]> = [
      ['a stop', () => stream().emit('playing', [playing('1', 'stopped')])],
      ['an unknown session', () => stream().emit('playing', [playing('7', 'playing')])],
      ['a frame that could not be read', () => stream().emit('dropped', { reason: 'frame is not a JSON object' })],
    ]
    for (const [what, step] of steps) {
      step()
      await clock.advance(PATCH_BATCH_MS + 300)
      expect(refreshed.splice(0), what).toEqual(['plex_sessions'])
    }
  })

  it('while the stream is up the patched value needs no TTL reload, only a reload once its fetch is old; once it is down the TTL rules again', async () => {
    const { stream, clock, sessions, loads, setPlayers } = scriptedLive()
    setPlayers({ '1': { state: 'playing', at: 0 } })
    await sessions.read()
    stream().isConnected = true
    stream().emit('connected', { transport: 'websocket' })
    await clock.advance(300) // the reload that follows a connect
    expect(loads.count).toBe(2)
    for (let t = 0; t < REFETCH_AFTER_MS - 1_000; t += 1_000) {
      expect(sessions.peek(), `fresh at ${t} ms`).toBeDefined()
      await clock.advance(1_000)
    }
    expect(loads.count, 'no TTL reload while the stream is up').toBe(2)
    await clock.advance(TTL + 300) // the first confirmation that finds the fetch too old
    expect(loads.count, 'read, and fetched long ago: reloaded for what PMS does not push').toBe(3)

    stream().isConnected = false
    stream().emit('disconnected', { transport: 'websocket', reason: 'closed (1006)' })
    const loadsWhenDown = loads.count
    for (let t = 0; t < 2 * TTL; t += 1_000) {
      sessions.peek() // a dashboard reading
      await clock.advance(1_000)
    }
    expect(
      loads.count - loadsWhenDown,
      'refresh-ahead on the TTL, nothing confirming the value any more',
    ).toBeGreaterThanOrEqual(2)
  })

  it('live stats (every change pushed as timeline.library) are confirmed while the stream is up, reloaded on new media and once their fetch is old; once it is down the TTL rules again', async () => {
    const clock = new ManualClock()
    const registry: CacheRegistry = createCacheRegistry({ clock, random: () => 0 })
    closers.push(() => registry.close())
    const STATS_TTL = 30_000
    let loads = 0
    const stats = registry.define<number>({
      name: 'plex_stats_live',
      key: 'plex_stats_live',
      ttlMs: STATS_TTL,
      load: () => ++loads,
    })
    const spec = CACHES.find((candidate) => candidate.name === 'plex_stats_live')!
    const refetchAfterMs = spec.refetchAfterSeconds! * 1_000
    expect(refetchAfterMs, 'its own bound, longer than the default').toBeGreaterThan(REFETCH_AFTER_MS)
    const { stream } = scriptedPush(registry, [spec], clock)
    await stats.read()
    stream().isConnected = true
    stream().emit('connected', { transport: 'websocket' })
    await clock.advance(300) // the reload that follows a connect
    expect(loads).toBe(2)
    for (let t = 0; t < refetchAfterMs - 1_000; t += 1_000) {
      expect(stats.peek(), `fresh at ${t} ms (a dashboard reading)`).toBeDefined()
      await clock.advance(1_000)
    }
    expect(loads, 'no TTL reload while the stream is up').toBe(2)
    await clock.advance(STATS_TTL + 300) // the first confirmation that finds the fetch too old
    expect(loads, 'read, and fetched long ago: reloaded for the user count, which PMS does not push').toBe(3)
    stream().emit('timeline', [{ state: 5, itemID: '1' }])
    await clock.advance(300)
    expect(loads, 'new media').toBe(4)

    stream().isConnected = false
    stream().emit('disconnected', { transport: 'websocket', reason: 'closed (1006)' })
    const loadsWhenDown = loads
    for (let t = 0; t < 2 * STATS_TTL; t += 1_000) {
      stats.peek()
      await clock.advance(1_000)
    }
    expect(
      loads - loadsWhenDown,
      'refresh-ahead on the TTL, nothing confirming the value any more',
    ).toBeGreaterThanOrEqual(2)
  })

  it('a flood of 1,000 reports a second costs a patch per batch, no load, and ends on the last position', async () => {
    const { stream, clock, sessions, loads, setPlayers } = scriptedLive()
    setPlayers({ '1': { state: 'playing', at: 0 }, '2': { state: 'playing', at: 0 } })
    await sessions.read()
    const etags = new Set<string>()
    for (let i = 1; i <= 1_000; i++) {
      stream().emit('playing', [playing(i % 2 === 0 ? '2' : '1', 'playing', i)])
      if (i % 10 === 0) {
        await clock.advance(10)
        etags.add(sessions.peek()!.etag)
      }
    }
    await clock.advance(PATCH_BATCH_MS)
    expect(sessions.peek()?.value).toEqual({ '1': { state: 'playing', at: 999 }, '2': { state: 'playing', at: 1_000 } })
    expect(etags.size, 'one patch per 25 ms batch').toBeLessThanOrEqual(1_000 / 2.5 / 10 + 1)
    expect(loads.count).toBe(1)
  })

  it('drops the reports of a server just replaced', async () => {
    const { stream, clock, plex, sessions, setPlayers } = scriptedLive()
    setPlayers({ '1': { state: 'playing', at: 0 } })
    await sessions.read()
    const old = stream()
    old.emit('playing', [playing('1', 'paused', 5_000)])
    plex.update({ url: 'http://127.0.0.1:2', token: 'another-scripted-token' })
    await eventually('the old stream is closed', () => old.closed)
    await clock.advance(PATCH_BATCH_MS)
    expect(sessions.peek()?.value, 'the old server’s report was dropped').toEqual({ '1': { state: 'playing', at: 0 } })
  })

  it('patches a progress report of a held transcode with no load; a start, an end or an unknown transcode reloads', async () => {
    const { stream, clock, refreshed, registry } = scripted()
    const transcode = (key: string, progress: number) => ({ key, progress, speed: 1.5, videoDecision: 'transcode' })
    let loads = 0
    const cache = registry.define<TranscodeSessionsValue>({
      name: 'plex_transcode_sessions',
      key: 'plex_transcode_sessions',
      ttlMs: 60_000,
      load: () => {
        loads++
        const views = [transcode('/transcode/sessions/a', 10), transcode('/transcode/sessions/b', 20)].map(
          transcodeSessionView,
        )
        return { error: false, transcode_sessions: views, total: views.length }
      },
    })
    await cache.read()
    stream().emit('transcodeSession', { event: 'update', sessions: [transcode('/transcode/sessions/b', 25)] })
    await clock.advance(300)
    expect(refreshed, 'a progress report costs no refresh').toEqual([])
    expect(loads).toBe(1)
    expect(cache.peek()?.value.transcode_sessions.map((t) => [t.key, t.progress])).toEqual([
      ['/transcode/sessions/a', 10],
      ['/transcode/sessions/b', 25],
    ])

    stream().emit('transcodeSession', { event: 'update', sessions: [transcode('/transcode/sessions/c', 5)] })
    await clock.advance(300)
    expect(refreshed.splice(0), 'an unknown transcode').toEqual(['plex_transcode_sessions'])
    for (const event of ['start', 'end'] as const) {
      stream().emit('transcodeSession', { event, sessions: [transcode('/transcode/sessions/a', 10)] })
      await clock.advance(300)
      expect(refreshed.splice(0).sort(), event).toEqual(['plex_activities', 'plex_sessions', 'plex_transcode_sessions'])
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
    expect(refreshed.sort()).toEqual([
      'plex_activities',
      'plex_recent_media',
      'plex_sessions',
      'plex_stats_live',
      'plex_users_count',
    ])

    const old = stream()
    plex.update(undefined)
    await eventually('the old stream is closed', () => old.closed)
    expect(push.listening).toBe(false)
  })
})
