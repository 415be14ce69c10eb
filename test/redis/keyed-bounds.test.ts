// A keyed cache holds at most its declared keys and bytes in Redis as in memory, however many
// distinct keys clients ask for; query variants live shorter in Redis than the base key.
import { describe, expect, it } from 'vitest'
import { createCacheRegistry, type SharedLayer } from '../../src/cache/index.js'
import { boundIndexKeys } from '../../src/cache/redis/shared-layer.js'
import { keysUnder, PrivateCluster, rawClient, redisTestScope, sharedSettings, uniquePrefix } from './helpers.js'

const { layers, registries, raw, prefix } = redisTestScope()

interface Query {
  limit: number
  offset: number
}

/** Rows that compress about as badly as real history rows do (distinct text per row). */
function rows(query: Query): Array<Record<string, unknown>> {
  return Array.from({ length: query.limit }, (_, i) => ({
    title: `Episode ${query.offset + i} ${((query.offset + i) * 2654435761) % 1e9}`,
    viewed_at: 1_767_000_000 + query.offset + i,
  }))
}

async function historyCache(shared: SharedLayer, bounds: { maxKeys: number; maxBytes: number }) {
  const registry = createCacheRegistry({ shared, maxBytes: 256 * 1024 * 1024 })
  registries.push(registry)
  return registry.define<Array<Record<string, unknown>>, Query>({
    name: 'watch_history',
    key: 'plex:watch_history',
    keyOf: (q) => `limit=${q.limit}:offset=${q.offset}`,
    warmArgs: [{ limit: 50, offset: 0 }],
    ttlMs: 300_000,
    maxStaleMs: 3_600_000,
    variantMaxStaleMs: 60_000,
    ...bounds,
    load: (q) => rows(q),
  })
}

/** A bounded history cache on the shared Redis, under a fresh prefix. */
async function boundedOnSharedRedis(what: string, bounds: { maxKeys: number; maxBytes: number }) {
  const p = prefix(what)
  const layer = await layers.create(sharedSettings(p))
  return { p, cache: await historyCache(layer.shared, bounds) }
}

async function storedUnder(prefix: string): Promise<{ keys: string[]; bytes: number }> {
  const keys = (await keysUnder(raw, `${prefix}plex:watch_history:`)).filter((key) => !key.includes('~'))
  let bytes = 0
  for (const key of keys) bytes += await raw.strlen(key)
  return { keys, bytes }
}

describe('keyed cache bounds', () => {
  it('1,000 distinct queries leave at most maxKeys keys and maxBytes bytes in Redis and in memory', async () => {
    const bounds = { maxKeys: 40, maxBytes: 1024 * 1024 }
    const { p, cache } = await boundedOnSharedRedis('bounds', bounds)
    for (let offset = 0; offset < 1_000; offset++) await cache.read({ limit: 50, offset })

    const stored = await storedUnder(p)
    expect(stored.keys.length).toBeGreaterThan(0)
    expect(stored.keys.length).toBeLessThanOrEqual(bounds.maxKeys)
    expect(stored.bytes).toBeLessThanOrEqual(bounds.maxBytes)
    // The newest queries are the ones kept.
    expect(stored.keys).toContain(`${p}plex:watch_history:limit=50:offset=999`)
    expect(stored.keys).not.toContain(`${p}plex:watch_history:limit=50:offset=1`)
    const [, sizes] = boundIndexKeys(p, 'plex:watch_history:')
    expect(Number(await raw.hget(sizes, '#total'))).toBe(stored.bytes)

    const memory = cache.stats()
    expect(memory.entries).toBeLessThanOrEqual(bounds.maxKeys)
    expect(memory.bytes).toBeLessThanOrEqual(bounds.maxBytes)
    expect(memory.evictions).toBeGreaterThanOrEqual(1_000 - bounds.maxKeys)
  }, 60_000)

  it('the byte bound binds before the key bound when values are large', async () => {
    const { p, cache } = await boundedOnSharedRedis('bytes', { maxKeys: 1_000, maxBytes: 200 * 1024 })
    for (let offset = 0; offset < 200; offset++) await cache.read({ limit: 1_000, offset: offset * 1_000 })
    const stored = await storedUnder(p)
    expect(stored.bytes).toBeLessThanOrEqual(200 * 1024)
    expect(stored.keys.length).toBeLessThan(200)
    expect(stored.keys.length).toBeGreaterThan(0)
    expect(cache.stats().bytes).toBeLessThanOrEqual(200 * 1024)
  }, 60_000)

  it('a query variant lives ttl + variantMaxStaleMs in Redis, the base key ttl + maxStaleMs', async () => {
    const { p, cache } = await boundedOnSharedRedis('lifetimes', { maxKeys: 10, maxBytes: 1024 * 1024 })
    await cache.read({ limit: 50, offset: 0 })
    await cache.read({ limit: 50, offset: 7 })
    const base = await raw.pttl(`${p}plex:watch_history:limit=50:offset=0`)
    const variant = await raw.pttl(`${p}plex:watch_history:limit=50:offset=7`)
    expect(base).toBeGreaterThan(3_899_000)
    expect(base).toBeLessThanOrEqual(3_900_000)
    expect(variant).toBeGreaterThan(359_000)
    expect(variant).toBeLessThanOrEqual(360_000)
  })

  it('a clear drops the index with the values, and the bound counts from zero again', async () => {
    const { p, cache } = await boundedOnSharedRedis('clear', { maxKeys: 5, maxBytes: 1024 * 1024 })
    for (let offset = 0; offset < 5; offset++) await cache.read({ limit: 10, offset })
    expect(await cache.clear()).toBe(true)
    expect(await keysUnder(raw, `${p}plex:`)).toEqual([])
    for (let offset = 10; offset < 15; offset++) await cache.read({ limit: 10, offset })
    expect((await storedUnder(p)).keys).toHaveLength(5)
  })
})

describe('keyed cache bounds on a Redis Cluster', () => {
  it('keeps the bound where the index and the values live in different slots', async () => {
    const cluster = await PrivateCluster.start()
    try {
      const p = uniquePrefix('cluster')
      const layer = await layers.create(cluster.settings(p))
      const cache = await historyCache(layer.shared, { maxKeys: 8, maxBytes: 1024 * 1024 })
      for (let offset = 0; offset < 60; offset++) await cache.read({ limit: 10, offset })
      const keys: string[] = []
      for (const node of cluster.nodes) {
        const client = rawClient(node.url)
        try {
          keys.push(...(await keysUnder(client, `${p}plex:watch_history:`)).filter((key) => !key.includes('~')))
        } finally {
          client.disconnect()
        }
      }
      expect(keys.length).toBeGreaterThan(0)
      expect(keys.length).toBeLessThanOrEqual(8)
      expect(keys).toContain(`${p}plex:watch_history:limit=10:offset=59`)
    } finally {
      await layers.closeAll()
      await cluster.stop()
    }
  }, 60_000)
})
