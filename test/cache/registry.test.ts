import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { CacheClosedError, percentiles, settle, type CacheRegistry } from '../../src/cache/index.js'
import { deferred, recordingLogger, setup, Upstream } from './helpers.js'

let registry: CacheRegistry
afterEach(() => registry.close())

describe('entries', () => {
  it('peek returns the stored entry object itself, with json, a strong etag and both clocks', async () => {
    let clock
    ;({ clock, registry } = setup())
    await clock.advance(5_000)
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      load: () => ({ sessions: ['é'], total: 1 }),
    })
    const { entry } = await sessions.read()
    expect(sessions.peek()).toBe(entry)
    expect(sessions.peek()).toBe(entry)
    expect(entry.json).toBe('{"sessions":["é"],"total":1}')
    expect(entry.bytes).toBe(Buffer.byteLength(entry.json))
    expect(entry.etag).toBe(`"${createHash('sha1').update(entry.json).digest('base64url')}"`)
    expect(entry.loadedAt).toBe(5_000)
    expect(entry.fetchedAt).toBe(clock.wallNow())
    expect(Object.isFrozen(entry)).toBe(true)
    await clock.advance(2_500)
    expect(sessions.ageMs(entry)).toBe(2_500)
    expect(sessions.counters.hits).toBe(2)
  })

  it('read on a hit answers the same frozen object every time', async () => {
    ;({ registry } = setup())
    const sessions = registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: 10_000, load: () => 1 })
    await sessions.read()
    const [first, second] = await Promise.all([sessions.read(), sessions.read()])
    expect(first).toBe(second)
    expect(first?.outcome).toBe('hit')
  })

  it('a value without a JSON form is a loader error, never a value', async () => {
    ;({ registry } = setup())
    const broken = registry.define({ name: 'broken', key: 'broken', ttlMs: 10_000, load: () => undefined })
    const big = registry.define({ name: 'big', key: 'big', ttlMs: 10_000, load: () => ({ n: 1n }) })
    await expect(broken.read()).rejects.toThrow(
      'cache broken (broken): the loader returned undefined, which has no JSON form',
    )
    await expect(big.read()).rejects.toThrow('cannot be serialized to JSON')
    expect(broken.counters).toMatchObject({ loadErrors: 1, entries: 0 })
    expect(big.counters).toMatchObject({ loadErrors: 1, entries: 0 })
  })
})

describe('statistics', () => {
  it('are exact after a scripted sequence', async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream()
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      maxStaleMs: 60_000,
      refreshAhead: false,
      load: upstream.load,
    })
    const gate = deferred()
    upstream.gate = gate
    const cold = [sessions.read(), sessions.read(), sessions.read()] // 1 miss, 2 coalesced
    await settle()
    await clock.advance(40)
    gate.resolve()
    await Promise.all(cold)
    upstream.gate = undefined
    sessions.peek() // hit
    await sessions.read() // hit
    await clock.advance(10_000)
    expect(sessions.peek(), 'expired: peek counts nothing').toBeUndefined()
    upstream.failing = new Error('down')
    await sessions.read() // miss, load error, stale
    await sessions.read() // miss during backoff, stale
    await clock.advance(1_000)
    upstream.failing = undefined
    // miss: the retry after the backoff step answers within the soft timeout
    expect((await sessions.read()).outcome).toBe('miss')

    expect(sessions.stats()).toMatchObject({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      maxStaleMs: 60_000,
      refreshAhead: false,
      shared: false,
      hits: 2,
      misses: 4,
      coalesced: 2,
      staleServes: 2,
      sharedHits: 0,
      refreshes: 0,
      loads: 3,
      loadErrors: 1,
      evictions: 0,
      oversized: 0,
      entries: 1,
      bytes: '{"version":3}'.length,
      requests: 8,
      hitRate: 2 / 8,
      lastFetchedAt: clock.wallNow(),
      lastError: null,
      ageMs: 0,
    })
    expect(sessions.stats().loadMs).toEqual({ p50: 0, p95: 40, p99: 40, samples: 3 })
    expect(sessions.loadTimesMs()).toEqual([40, 0, 0])
  })

  it('clear empties data, not counters; resetStats zeroes history but not what is held', async () => {
    ;({ registry } = setup())
    const sessions = registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: 10_000, load: () => 1 })
    const other = registry.define({ name: 'other', key: 'other', ttlMs: 10_000, load: () => 2 })
    await sessions.read()
    await sessions.read()
    await other.read()
    await registry.clear('plex_sessions')
    expect(sessions.counters).toMatchObject({ hits: 1, misses: 1, loads: 1, entries: 0, bytes: 0 })
    registry.resetStats()
    expect(other.counters).toMatchObject({ hits: 0, misses: 0, loads: 0, entries: 1, bytes: 1 })
    expect(other.stats().loadMs).toBeNull()
  })

  it('registry.stats lists every cache in declaration order', () => {
    ;({ registry } = setup())
    registry.define({ name: 'plex_activities', key: 'plex:activities', ttlMs: 5_000, load: () => [] })
    registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: 10_000, load: () => [] })
    expect(registry.stats().map((stats) => [stats.name, stats.requests, stats.ageMs])).toEqual([
      ['plex_activities', 0, null],
      ['plex_sessions', 0, null],
    ])
    expect(registry.list().map((cache) => cache.name)).toEqual(['plex_activities', 'plex_sessions'])
    expect(registry.get('plex_sessions')?.ttlMs).toBe(10_000)
    expect(registry.get('nope')).toBeUndefined()
  })

  it('percentiles are nearest-rank', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentiles(samples)).toEqual({ p50: 50, p95: 95, p99: 99, samples: 100 })
    expect(percentiles([])).toBeNull()
  })
})

describe('keyed caches', () => {
  function history() {
    const upstream = new Upstream((call, query: { limit: number; offset: number }) => ({ call, ...query }))
    const cache = registry.define({
      name: 'watch_history',
      key: 'plex:watch_history',
      ttlMs: 300_000,
      keyOf: (query: { limit: number; offset: number }) => `limit=${query.limit}&offset=${query.offset}`,
      load: upstream.load,
      warmArgs: [{ limit: 500, offset: 0 }],
    })
    return { cache, upstream }
  }

  it('hold one entry per argument under key:keyOf(args)', async () => {
    ;({ registry } = setup())
    const { cache, upstream } = history()
    expect(cache.keyFor({ limit: 5, offset: 10 })).toBe('plex:watch_history:limit=5&offset=10')
    await cache.read({ limit: 5, offset: 0 })
    await cache.read({ limit: 5, offset: 5 })
    expect((await cache.read({ limit: 5, offset: 0 })).outcome).toBe('hit')
    expect(upstream.args).toEqual([
      { limit: 5, offset: 0 },
      { limit: 5, offset: 5 },
    ])
    expect(cache.counters.entries).toBe(2)
  })

  it('invalidate by arguments drops only that key', async () => {
    ;({ registry } = setup())
    const { cache } = history()
    await cache.read({ limit: 5, offset: 0 })
    await cache.read({ limit: 5, offset: 5 })
    await registry.invalidate('watch_history', { limit: 5, offset: 0 })
    expect(cache.peek({ limit: 5, offset: 0 })).toBeUndefined()
    expect(cache.peek({ limit: 5, offset: 5 })).toBeDefined()
    await registry.invalidate('watch_history')
    expect(cache.counters.entries).toBe(0)
  })
})

describe('reload', () => {
  it('reloadAll force-reloads every key held, the argument-less key, and warmArgs when nothing is held', async () => {
    ;({ registry } = setup())
    const sessionsUp = new Upstream()
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      load: sessionsUp.load,
    })
    const historyUp = new Upstream((call, page: number) => ({ call, page }))
    const history = registry.define({
      name: 'watch_history',
      key: 'plex:watch_history',
      ttlMs: 300_000,
      keyOf: (page: number) => `page=${page}`,
      load: historyUp.load,
    })
    const recentUp = new Upstream((call, page: number) => ({ call, page }))
    registry.define({
      name: 'plex_recent_media',
      key: 'plex:recent_media',
      ttlMs: 300_000,
      keyOf: (page: number) => `page=${page}`,
      warmArgs: [7],
      load: recentUp.load,
    })
    const failing = new Upstream()
    failing.failing = new Error('Plex answered 401: the token is not accepted')
    registry.define({ name: 'plex_stats', key: 'plex:stats', ttlMs: 60_000, load: failing.load })
    await history.read(1)
    await history.read(2)

    const results = await registry.reloadAll()

    expect(results).toEqual([
      { name: 'plex_sessions', ok: true, keys: 1 },
      { name: 'watch_history', ok: true, keys: 2 },
      { name: 'plex_recent_media', ok: true, keys: 1 },
      { name: 'plex_stats', ok: false, keys: 1, error: 'Plex answered 401: the token is not accepted' },
    ])
    expect(historyUp.args).toEqual([1, 2, 1, 2])
    expect(recentUp.args).toEqual([7])
    expect(history.peek(1)?.value).toEqual({ call: 3, page: 1 })
    expect(sessions.peek()?.value).toEqual({ version: 1 })
    expect(history.counters.refreshes).toBe(2)
  })

  it('ignores freshness and backoff but joins a load already in flight', async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream()
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      load: upstream.load,
    })
    upstream.failing = new Error('down')
    await expect(sessions.read()).rejects.toThrow('down')
    upstream.failing = undefined
    expect(await registry.reload('plex_sessions')).toEqual({ name: 'plex_sessions', ok: true, keys: 1 })
    expect(upstream.calls, 'backoff ignored').toBe(2)
    expect(await registry.reload('plex_sessions')).toMatchObject({ ok: true })
    expect(upstream.calls, 'freshness ignored').toBe(3)

    const gate = deferred()
    upstream.gate = gate
    await clock.advance(10_000)
    const reading = sessions.read()
    const reloading = registry.reload('plex_sessions')
    gate.resolve()
    await Promise.all([reading, reloading])
    expect(upstream.calls, 'joined the read in flight').toBe(4)
  })

  it('an unknown name is an error that lists the caches', async () => {
    ;({ registry } = setup())
    registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: 10_000, load: () => 1 })
    await expect(registry.clear('sessions')).rejects.toThrow(
      'no cache named "sessions"; the registry has: plex_sessions',
    )
  })
})

describe('declaration', () => {
  it('rejects bad options with a message naming the knob', () => {
    ;({ registry } = setup())
    const base = { name: 'plex_sessions', key: 'plex:sessions', ttlMs: 10_000, load: () => 1 }
    expect(() => registry.define({ ...base, ttlMs: 0 })).toThrow(
      'cache "plex_sessions": ttlMs 0 is not a positive finite number of ms',
    )
    expect(() => registry.define({ ...base, refreshAheadAt: 1.5 })).toThrow('refreshAheadAt 1.5 is not a fraction')
    expect(() => registry.define({ ...base, maxStaleMs: -1 })).toThrow('maxStaleMs -1')
    registry.define(base)
    expect(() => registry.define(base)).toThrow('cache "plex_sessions" is declared twice')
    expect(() => registry.define({ ...base, name: 'copy' })).toThrow(
      'key "plex:sessions" is already used by cache "plex_sessions"',
    )
  })

  it('takes policy from the registry defaults unless the declaration sets it', () => {
    ;({ registry } = setup({ defaults: { maxStaleMs: 5_000, idleWindowMs: 1_000 } }))
    const a = registry.define({ name: 'a', key: 'a', ttlMs: 1_000, load: () => 1 })
    const b = registry.define({ name: 'b', key: 'b', ttlMs: 1_000, maxStaleMs: 7_000, load: () => 1 })
    expect(a.policy).toMatchObject({
      maxStaleMs: 5_000,
      idleWindowMs: 1_000,
      refreshAheadAt: 0.8,
      backoffMaxMs: 30_000,
    })
    expect(b.policy.maxStaleMs).toBe(7_000)
  })
})

describe('logging and lifecycle', () => {
  it('logs one info line per miss, refresh, stale serve and loader error, hits at debug, errors as messages', async () => {
    const logger = recordingLogger()
    let clock
    ;({ clock, registry } = setup({ logger }))
    const upstream = new Upstream()
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      backoffBaseMs: 5_000,
      load: upstream.load,
    })
    await sessions.read()
    sessions.peek()
    upstream.failing = new Error('Plex answered 503')
    await clock.advance(8_000)
    await clock.advance(2_000)
    await sessions.read()

    expect(logger.lines.map((line) => `${line.level} ${line.message}`)).toEqual([
      'info cache miss',
      'debug cache hit',
      'info cache refresh',
      'info cache loader failed',
      'info cache served stale',
    ])
    const stale = logger.lines[4]?.fields
    expect(stale).toMatchObject({ cache: 'plex_sessions', key: 'plex:sessions', error: 'Plex answered 503' })
    expect(logger.lines.every((line) => Object.values(line.fields).every((value) => !(value instanceof Error)))).toBe(
      true,
    )
  })

  it('logs no hit lines when debug is off', async () => {
    const logger = recordingLogger(false)
    ;({ registry } = setup({ logger }))
    const sessions = registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: 10_000, load: () => 1 })
    await sessions.read()
    sessions.peek()
    expect(logger.lines.map((line) => line.message)).toEqual(['cache miss'])
  })

  it('close clears every timer and aborts loads in flight', async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream()
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      load: upstream.load,
    })
    const stats = registry.define({
      name: 'plex_stats',
      key: 'plex:stats',
      ttlMs: 10_000,
      load: () => new Promise<number>(() => {}),
    })
    await sessions.read()
    const hanging = stats.read()
    await settle()
    expect(clock.pendingTimers).toBe(2)
    registry.close()
    expect(clock.pendingTimers).toBe(0)
    await expect(hanging).rejects.toThrow(CacheClosedError)
    await expect(hanging).rejects.toThrow('cache plex_stats: the registry was closed')
    await clock.advance(100_000)
    expect(upstream.calls).toBe(1)
  })
})
