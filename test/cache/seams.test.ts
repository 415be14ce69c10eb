import { afterEach, describe, expect, it } from 'vitest'
import {
  LocalBus,
  ManualClock,
  MemoryFlightCoordinator,
  MemorySharedLayer,
  settle,
  type CacheRegistry,
  type CacheRegistryOptions,
  type SharedHit,
  type SharedLayer,
} from '../../src/cache/index.js'
import { deferred, setup, Upstream } from './helpers.js'

const open: CacheRegistry[] = []
afterEach(() => {
  for (const registry of open.splice(0)) registry.close()
})

/** Two instances of the service in one process: one "remote" shared layer and bus between them. */
function twoInstances(options: Partial<CacheRegistryOptions> = {}) {
  const clock = new ManualClock()
  const shared = new MemorySharedLayer(clock)
  const bus = new LocalBus()
  const upstream = new Upstream()
  const instances = [0, 1].map(() => {
    const { registry } = setup({ clock, shared, bus, ...options })
    open.push(registry)
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      load: upstream.load,
    })
    return { registry, sessions }
  })
  return { clock, shared, upstream, a: instances[0]!, b: instances[1]! }
}

describe('shared layer', () => {
  it("a second instance reads the first one's value as a shared hit, with its age and fetch time", async () => {
    const { clock, shared, upstream, a, b } = twoInstances({ defaults: { refreshAhead: false } })
    const loaded = await a.sessions.read()
    expect(shared.size).toBe(1)
    await clock.advance(3_000)

    const read = await b.sessions.read()
    expect(read.outcome).toBe('hit')
    expect(read.entry.value).toEqual({ version: 1 })
    expect(read.entry.json).toBe(loaded.entry.json)
    expect(read.entry.etag).toBe(loaded.entry.etag)
    expect(read.entry.fetchedAt).toBe(loaded.entry.fetchedAt)
    expect(b.sessions.ageMs(read.entry)).toBe(3_000)
    expect(b.sessions.counters).toMatchObject({ hits: 1, misses: 0, sharedHits: 1, loads: 0 })
    expect(upstream.calls).toBe(1)

    await clock.advance(6_999)
    expect(b.sessions.peek(), 'fresh for the remaining TTL only').toBeDefined()
    await clock.advance(1)
    expect(b.sessions.peek()).toBeUndefined()
  })

  it("refresh-ahead on one instance adopts the other instance's fresher value instead of loading", async () => {
    const { clock, upstream, a, b } = twoInstances()
    await a.sessions.read()
    await b.sessions.read()
    await clock.advance(8_000)
    expect(upstream.calls).toBe(2)
    expect(a.sessions.peek()?.value).toEqual({ version: 2 })
    expect(b.sessions.peek()?.value).toEqual({ version: 2 })
    expect(b.sessions.counters).toMatchObject({ refreshes: 1, sharedHits: 2, loads: 0 })
  })

  it('a shared value past its TTL is not fresh, but is served stale when the loader fails', async () => {
    const { clock, upstream, a, b } = twoInstances({ defaults: { refreshAhead: false } })
    await a.sessions.read()
    await clock.advance(15_000)
    upstream.failing = new Error('Plex answered 503')
    const read = await b.sessions.read()
    expect(read.outcome).toBe('stale')
    expect(read.entry.value).toEqual({ version: 1 })
    expect(b.sessions.ageMs(read.entry)).toBe(15_000)
    expect(upstream.calls).toBe(2)
  })

  it('caches declared shared: false never touch the shared layer', async () => {
    const clock = new ManualClock()
    const shared = new MemorySharedLayer(clock)
    const { registry } = setup({ clock, shared })
    open.push(registry)
    const local = registry.define({ name: 'local', key: 'local', ttlMs: 1_000, shared: false, load: () => 1 })
    await local.read()
    expect(shared.size).toBe(0)
    expect(local.stats().shared).toBe(false)
  })

  it('a shared layer that breaks its promise and throws does not fail a read', async () => {
    const throwing: SharedLayer = {
      get: async (): Promise<SharedHit | undefined> => {
        throw new Error('redis down')
      },
      set: async () => {
        throw new Error('redis down')
      },
      delete: async () => {
        throw new Error('redis down')
      },
      clear: async () => {
        throw new Error('redis down')
      },
    }
    const { registry } = setup({ shared: throwing })
    open.push(registry)
    const sessions = registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: 1_000, load: () => 1 })
    expect((await sessions.read()).outcome).toBe('miss')
    expect(await registry.clearAll()).toEqual({ cleared: ['plex_sessions'], sharedCleared: false })
  })

  it('clearAll empties the shared layer of every keyed and unkeyed key, and nothing else', async () => {
    const clock = new ManualClock()
    const shared = new MemorySharedLayer(clock)
    await shared.set('plex:stats_live', { json: '1', fetchedAt: 0 }, 60_000, 0)
    const { registry } = setup({ clock, shared })
    open.push(registry)
    const stats = registry.define({ name: 'plex_stats', key: 'plex:stats', ttlMs: 1_000, load: () => 1 })
    const history = registry.define({
      name: 'h',
      key: 'plex:h',
      ttlMs: 1_000,
      keyOf: (n: number) => `${n}`,
      load: () => 2,
    })
    await stats.read()
    await history.read(1)
    await history.read(2)
    expect(shared.size).toBe(4)
    expect(await registry.clearAll()).toEqual({ cleared: ['plex_stats', 'h'], sharedCleared: true })
    expect(await shared.get('plex:stats_live'), 'a key that merely shares the prefix').toBeDefined()
    expect(shared.size).toBe(1)
  })
})

describe('invalidation bus', () => {
  it('a clear on one instance reaches the other and the shared layer', async () => {
    const { upstream, a, b } = twoInstances()
    await a.sessions.read()
    await b.sessions.read()
    expect(b.sessions.peek()).toBeDefined()

    await a.registry.clear('plex_sessions')
    await settle()
    expect(b.sessions.peek()).toBeUndefined()
    expect((await b.sessions.read()).outcome).toBe('miss')
    expect(upstream.calls).toBe(2)
  })

  it('clearAll and invalidate reach the other instance; it does not republish', async () => {
    const clock = new ManualClock()
    const bus = new LocalBus()
    const seen: string[] = []
    bus.subscribe((message) => seen.push(message.type))
    const make = () => {
      const { registry } = setup({ clock, bus })
      open.push(registry)
      const history = registry.define({
        name: 'h',
        key: 'plex:h',
        ttlMs: 1_000,
        keyOf: (n: number) => `${n}`,
        load: () => 1,
      })
      return { registry, history }
    }
    const a = make()
    const b = make()
    await b.history.read(1)
    await b.history.read(2)
    await a.registry.invalidate('h', 1)
    await settle()
    expect(b.history.peek(1)).toBeUndefined()
    expect(b.history.peek(2)).toBeDefined()
    await a.registry.clearAll()
    await settle()
    expect(b.history.counters.entries).toBe(0)
    expect(seen).toEqual(['invalidate', 'clear-all'])
  })

  it('a message without an origin (a bus back from a lost subscription) drops memory everywhere', async () => {
    const { a, b } = twoInstances()
    await a.sessions.read()
    await b.sessions.read()
    const bus = new LocalBus()
    const { registry } = setup({ bus })
    open.push(registry)
    const sessions = registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: 10_000, load: () => 1 })
    await sessions.read()
    await bus.publish({ type: 'clear-all' })
    await settle()
    expect(sessions.peek()).toBeUndefined()
  })
})

describe('flight coordinator', () => {
  it('concurrent misses on two instances make one loader call in the cluster', async () => {
    const coordinator = new MemoryFlightCoordinator()
    const { upstream, a, b } = twoInstances({ coordinator })
    const gate = deferred()
    upstream.gate = gate
    const reads = [a.sessions.read(), a.sessions.read(), b.sessions.read(), b.sessions.read()]
    await settle()
    gate.resolve()
    const results = await Promise.all(reads)
    expect(upstream.calls).toBe(1)
    expect(results.map((read) => read.entry.value)).toEqual(Array(4).fill({ version: 1 }))
    expect(b.sessions.counters).toMatchObject({ sharedHits: 1, loads: 0, coalesced: 1 })
  })

  it('a cache declared shared: false loads on its own instance without waiting on another', async () => {
    const coordinator = new MemoryFlightCoordinator()
    const clock = new ManualClock()
    const shared = new MemorySharedLayer(clock)
    const upstream = new Upstream()
    const gate = deferred()
    upstream.gate = gate
    const [a, b] = [0, 1].map(() => {
      const { registry } = setup({ clock, shared, coordinator })
      open.push(registry)
      return registry.define({ name: 'local', key: 'local', ttlMs: 10_000, shared: false, load: upstream.load })
    })
    const reads = [a!.read(), b!.read()]
    await settle()
    expect(upstream.calls).toBe(2)
    gate.resolve()
    expect((await Promise.all(reads)).map((read) => read.outcome)).toEqual(['miss', 'miss'])
  })

  it("an instance that waited loads itself when the other's load failed", async () => {
    const coordinator = new MemoryFlightCoordinator()
    const clock = new ManualClock()
    const shared = new MemorySharedLayer(clock)
    const upstream = new Upstream((call) => {
      if (call === 1) throw new Error('down')
      return { version: call }
    })
    const gate = deferred()
    upstream.gate = gate
    const [a, b] = [0, 1].map(() => {
      const { registry } = setup({ clock, shared, coordinator })
      open.push(registry)
      return registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: 10_000, load: upstream.load })
    })
    const first = a!.read()
    const second = b!.read()
    await settle()
    expect(upstream.calls).toBe(1)
    gate.resolve()
    await expect(first).rejects.toThrow('down')
    await expect(second).resolves.toMatchObject({ outcome: 'miss', entry: { value: { version: 2 } } })
    expect(upstream.calls).toBe(2)
  })
})
