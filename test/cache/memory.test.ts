import { afterEach, describe, expect, it } from 'vitest'
import { settle, type CacheRegistry } from '../../src/cache/index.js'
import { deferred, setup, Upstream } from './helpers.js'

let registry: CacheRegistry
afterEach(() => registry.close())

/** A JSON string of exactly `bytes` bytes (quotes included). */
const ofBytes = (bytes: number): string => 'x'.repeat(bytes - 2)

describe('generation on clear', () => {
  it('a clear during a load wins: the result is not written back, its waiters still get it', async () => {
    ;({ registry } = setup())
    const upstream = new Upstream()
    const gate = deferred()
    upstream.gate = gate
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      load: upstream.load,
    })

    const before = [sessions.read(), sessions.read()]
    await settle()
    await registry.clear('plex_sessions')
    gate.resolve()
    const results = await Promise.all(before)

    expect(results.map((read) => read.entry.value)).toEqual([{ version: 1 }, { version: 1 }])
    expect(sessions.peek()).toBeUndefined()
    expect(sessions.counters).toMatchObject({ entries: 0, bytes: 0 })
    upstream.gate = undefined
    expect(await sessions.read()).toMatchObject({ outcome: 'miss', entry: { value: { version: 2 } } })
  })

  it('a reader after the clear does not join the load that started before it', async () => {
    ;({ registry } = setup())
    const upstream = new Upstream()
    const gate = deferred()
    upstream.gate = gate
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      load: upstream.load,
    })

    const old = sessions.read()
    await settle()
    await registry.clear('plex_sessions')
    const fresh = sessions.read()
    await settle()
    gate.resolve()
    expect((await old).entry.value).toEqual({ version: 1 })
    expect((await fresh).entry.value).toEqual({ version: 2 })
    expect(sessions.peek()?.value).toEqual({ version: 2 })
  })

  it('an invalidate during a load of that key wins too', async () => {
    ;({ registry } = setup())
    const upstream = new Upstream((call, page: number) => ({ page, call }))
    const history = registry.define({
      name: 'watch_history',
      key: 'plex:watch_history',
      ttlMs: 300_000,
      keyOf: (page: number) => `page=${page}`,
      load: upstream.load,
    })
    await history.read(2)
    const gate = deferred()
    upstream.gate = gate
    const loading = history.read(1)
    await settle()
    await registry.invalidate('watch_history', 1)
    gate.resolve()
    await loading
    expect(history.peek(1)).toBeUndefined()
    expect(history.peek(2)?.value).toEqual({ page: 2, call: 1 })
  })
})

describe('byte budget', () => {
  function pages(maxBytes: number, bytesOf: (page: number) => number = () => 30) {
    ;({ registry } = setup({ maxBytes }))
    const upstream = new Upstream((_call, page: number) => ofBytes(bytesOf(page)))
    const cache = registry.define({
      name: 'watch_history',
      key: 'plex:watch_history',
      ttlMs: 300_000,
      keyOf: (page: number) => `page=${page}`,
      load: upstream.load,
    })
    return { cache, upstream }
  }

  it('evicts the least recently used entry and keeps entries and bytes exact', async () => {
    const { cache } = pages(100)
    await cache.read(1)
    await cache.read(2)
    await cache.read(3)
    expect(cache.counters).toMatchObject({ entries: 3, bytes: 90 })
    cache.peek(1)
    await cache.read(4)

    expect(cache.peek(2), 'page 2 was least recently used').toBeUndefined()
    expect([1, 3, 4].map((page) => cache.peek(page) !== undefined)).toEqual([true, true, true])
    expect(cache.counters).toMatchObject({ entries: 3, bytes: 90, evictions: 1 })
  })

  it('one budget for every cache of the registry, with exact per-cache accounting', async () => {
    ;({ registry } = setup({ maxBytes: 100 }))
    const a = registry.define({
      name: 'a',
      key: 'a',
      ttlMs: 60_000,
      keyOf: (n: number) => `${n}`,
      load: () => ofBytes(40),
    })
    const b = registry.define({ name: 'b', key: 'b', ttlMs: 60_000, load: () => ofBytes(50) })
    await a.read(1)
    await a.read(2)
    await b.read()
    expect(a.counters).toMatchObject({ entries: 1, bytes: 40, evictions: 1 })
    expect(b.counters).toMatchObject({ entries: 1, bytes: 50, evictions: 0 })
    expect(a.peek(2)?.bytes).toBe(40)
  })

  it('does not hold a value larger than the budget, but returns it and counts it', async () => {
    const { cache, upstream } = pages(100, (page) => (page === 1 ? 30 : 101))
    await cache.read(1)
    const big = await cache.read(2)
    expect(big.outcome).toBe('miss')
    expect(big.entry.bytes).toBe(101)
    expect(cache.peek(2)).toBeUndefined()
    expect(cache.peek(1), 'holding nothing for it evicts nothing').toBeDefined()
    expect(cache.counters).toMatchObject({ entries: 1, bytes: 30, oversized: 1, evictions: 0 })
    await cache.read(2)
    expect(upstream.calls).toBe(3)
  })

  it('keeps entries and bytes exact through replacement, expiry and clear', async () => {
    let clock
    ;({ clock, registry } = setup({ maxBytes: 1_000 }))
    let size = 10
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      maxStaleMs: 5_000,
      load: () => ofBytes(size),
    })
    await sessions.read()
    expect(sessions.counters).toMatchObject({ entries: 1, bytes: 10 })
    size = 25
    await clock.advance(8_000)
    expect(sessions.counters, 'refresh replaced the value').toMatchObject({ entries: 1, bytes: 25 })
    await clock.advance(100_000)
    expect(sessions.counters, 'dropped after TTL + maxStale').toMatchObject({ entries: 0, bytes: 0 })
    await sessions.read()
    await registry.clearAll()
    expect(sessions.counters).toMatchObject({ entries: 0, bytes: 0 })
  })
})
