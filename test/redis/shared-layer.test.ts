import { describe, expect, it } from 'vitest'
import { createCacheRegistry, ManualClock, type CacheRegistry } from '../../src/cache/index.js'
import { ValueCodec } from '../../src/cache/redis/index.js'
import { keysUnder, redisTestScope, sharedSettings } from './helpers.js'

const { layers, registries, raw, prefix } = redisTestScope()

/** A watch-history-like JSON document of about `bytes` bytes. */
function bigJson(bytes: number): string {
  const rows: string[] = []
  for (let i = 0, size = 2; size < bytes; i++) {
    const row = JSON.stringify({
      user_id: i % 7,
      email: `user${i % 7}`,
      title: `Episode ${i}`,
      grandparent_title: `Show ${i % 40}`,
      viewed_at: 1_767_000_000 + i,
      progress: (i * 37) % 100,
    })
    rows.push(row)
    size += row.length + 1
  }
  return `[${rows.join(',')}]`
}

describe('Redis shared layer', () => {
  it('stores under the key prefix, with value, fetch time and an age measured by PTTL', async () => {
    const p = prefix('roundtrip')
    const layer = await layers.create(sharedSettings(p))
    await layer.shared.set('plex:sessions', { json: '{"a":1}', fetchedAt: 1_767_225_600_000 }, 10_000, 50_000)

    expect(await keysUnder(raw, `${p}plex:`)).toEqual([`${p}plex:sessions`])
    const pttl = await raw.pttl(`${p}plex:sessions`)
    expect(pttl).toBeGreaterThan(59_000)
    expect(pttl).toBeLessThanOrEqual(60_000)

    const hit = await layer.shared.get('plex:sessions')
    expect(hit).toMatchObject({ json: '{"a":1}', fetchedAt: 1_767_225_600_000 })
    expect(hit!.ageMs).toBeGreaterThanOrEqual(0)
    expect(hit!.ageMs).toBeLessThan(1_000)
    expect(await layer.shared.get('plex:stats')).toBeUndefined()
  })

  it("takes a value's age from what is left of its expiry, not from any wall clock", async () => {
    const p = prefix('age')
    const layer = await layers.create(sharedSettings(p))
    // Written by "another host" 3 s ago: a 60 s lifetime with 57 s left.
    await raw.set(`${p}plex:stats`, 'j1767225600000:60000\n{"peak":3}', 'PX', 57_000)
    const hit = await layer.shared.get('plex:stats')
    expect(hit!.json).toBe('{"peak":3}')
    expect(hit!.ageMs).toBeGreaterThanOrEqual(3_000)
    expect(hit!.ageMs).toBeLessThan(4_000)
  })

  it('a Redis hit fills the memory layer for the remaining TTL only', async () => {
    const p = prefix('fill')
    const layer = await layers.create(sharedSettings(p))
    await raw.set(`${p}plex:stats`, 'j1767225600000:70000\n{"peak":3}', 'PX', 67_000)
    const clock = new ManualClock()
    const registry = createCacheRegistry({
      clock,
      shared: layer.shared,
      coordinator: layer.coordinator,
      bus: layer.bus,
      random: () => 0,
    })
    registries.push(registry)
    let loads = 0
    const stats = registry.define({
      name: 'plex_stats',
      key: 'plex:stats',
      ttlMs: 10_000,
      refreshAhead: false,
      load: () => ++loads,
    })

    const read = await stats.read()
    expect(read.outcome).toBe('hit')
    expect(read.entry.value).toEqual({ peak: 3 })
    expect(loads).toBe(0)
    // About 3 s old: fresh in memory for about 7 s more, not 10.
    await clock.advance(6_000)
    expect(stats.peek()).toBeDefined()
    await clock.advance(1_500)
    expect(stats.peek()).toBeUndefined()
  })

  it('writes a loaded value to memory and Redis, where another instance finds it', async () => {
    const p = prefix('both')
    const a = createCacheRegistry({ shared: (await layers.create(sharedSettings(p))).shared })
    const b = createCacheRegistry({ shared: (await layers.create(sharedSettings(p))).shared })
    registries.push(a, b)
    let loads = 0
    const declare = (registry: CacheRegistry) =>
      registry.define({
        name: 'plex_recent_media',
        key: 'plex:recent_media',
        ttlMs: 60_000,
        load: () => ({ media: [++loads] }),
      })
    const onA = declare(a)
    const onB = declare(b)
    expect((await onA.read()).outcome).toBe('miss')
    expect(onA.peek()).toBeDefined()
    const fromB = await onB.read()
    expect(fromB.outcome).toBe('hit')
    expect(fromB.entry.value).toEqual({ media: [1] })
    expect(onB.counters.sharedHits).toBe(1)
    expect(loads).toBe(1)
  })

  it('compresses values above the threshold and reads them back unchanged', async () => {
    const p = prefix('compress')
    const layer = await layers.create(sharedSettings(p))
    const json = bigJson(200_000)
    await layer.shared.set('plex:watch_history:limit=5000', { json, fetchedAt: 42 }, 300_000, 0)

    const stored = await raw.getBuffer(`${p}plex:watch_history:limit=5000`)
    expect(String.fromCharCode(stored![0]!), 'tagged as brotli').toBe('b')
    expect(stored!.length).toBeLessThan(json.length / 4)
    const hit = await layer.shared.get('plex:watch_history:limit=5000')
    expect(hit!.json).toBe(json)
    expect(hit!.fetchedAt).toBe(42)
    expect(await layer.shared.ageOf('plex:watch_history:limit=5000')).toBeLessThan(1_000)
    expect(await layer.shared.ageOf('plex:watch_history:limit=1')).toBeUndefined()
  })

  it('stores small values as JSON text, readable with redis-cli', async () => {
    const p = prefix('small')
    const layer = await layers.create(sharedSettings(p))
    await layer.shared.set('plex:users_count', { json: '{"count":4}', fetchedAt: 7 }, 300_000, 3_600_000)
    expect(await raw.get(`${p}plex:users_count`)).toBe('j7:3900000\n{"count":4}')
  })

  it('round-trips every codec, and reads what another codec wrote', async () => {
    const json = bigJson(40_000)
    const codecs = [
      new ValueCodec({ codec: 'gzip', level: 6 }),
      new ValueCodec({ codec: 'brotli', level: 4 }),
      new ValueCodec(),
    ]
    for (const writer of codecs) {
      const stored = await writer.encode({ json, fetchedAt: 1 }, 60_000)
      expect(Buffer.isBuffer(stored)).toBe(true)
      for (const reader of codecs) {
        const decoded = await reader.decode(stored as Buffer, 55_000)
        expect(decoded).toEqual({ json, fetchedAt: 1, ageMs: 5_000 })
      }
    }
    expect(new ValueCodec().decode(Buffer.from('garbage without a header'), 1_000)).toBeUndefined()
  })

  it('delete and clear remove only the keys asked for, glob characters in the prefix included', async () => {
    const p = prefix('clear')
    const layer = await layers.create(sharedSettings(p))
    const value = { json: '1', fetchedAt: 0 }
    for (const key of [
      'plex:watch_history:a',
      'plex:watch_history:b',
      'plex:watch_history',
      'plex:watch_historyX',
      'plex:w*:1',
      'plex:wx:1',
      'plex:stats',
    ]) {
      await layer.shared.set(key, value, 60_000, 0)
    }
    expect(await layer.shared.clear('plex:watch_history:')).toBe(true)
    expect(await layer.shared.clear('plex:w*:')).toBe(true)
    expect(await layer.shared.delete(['plex:stats'])).toBe(true)
    expect(await keysUnder(raw, `${p}plex:`)).toEqual([
      `${p}plex:watch_history`,
      `${p}plex:watch_historyX`,
      `${p}plex:wx:1`,
    ])
  })

  it("clearAll through the registry empties every cache's keys in Redis, keyed ones included", async () => {
    const p = prefix('clearall')
    const layer = await layers.create(sharedSettings(p))
    const registry = createCacheRegistry({ shared: layer.shared, bus: layer.bus, coordinator: layer.coordinator })
    registries.push(registry)
    const history = registry.define({
      name: 'watch_history',
      key: 'plex:watch_history',
      ttlMs: 60_000,
      keyOf: (n: number) => `limit=${n}`,
      load: (n) => [n],
    })
    const stats = registry.define({ name: 'plex_stats', key: 'plex:stats', ttlMs: 60_000, load: () => 1 })
    await Promise.all([history.read(5), history.read(10), stats.read()])
    // Three values, and the keyed cache's bound index (two keys, `~index` and `~sizes`).
    expect((await keysUnder(raw, `${p}plex:`)).filter((key) => !key.includes('~'))).toHaveLength(3)
    expect(await registry.clearAll()).toEqual({ cleared: ['watch_history', 'plex_stats'], sharedCleared: true })
    expect(await keysUnder(raw, `${p}plex:`)).toEqual([])
  })

  it('puts into Redis keys only what the caller gave: the prefix and the (hashed) key', async () => {
    const p = prefix('notoken')
    const token = 'sim-secret-token-4242'
    const layer = await layers.create(sharedSettings(p))
    const registry = createCacheRegistry({ shared: layer.shared, bus: layer.bus, coordinator: layer.coordinator })
    registries.push(registry)
    const libraries = registry.define({
      name: 'plex_libraries',
      key: 'plex:libraries:3f2a9c',
      ttlMs: 60_000,
      load: () => ['Movies'],
    })
    await libraries.read()
    expect(await keysUnder(raw, `${p}plex:`)).toEqual([`${p}plex:libraries:3f2a9c`])
    // Everything else the layer writes (leader lease, lock, stats) is under the prefix too.
    for (const key of await keysUnder(raw, p)) expect(key).not.toContain(token)
  })
})
