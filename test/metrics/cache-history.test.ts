import { describe, expect, it } from 'vitest'
import { createCacheRegistry, ManualClock } from '../../src/cache/index.js'
import { CacheHistory } from '../../src/metrics/cache-history.js'

describe('CacheHistory (the /cache page samples)', () => {
  it('samples every cache on the clock, keeps only the window, and answers what came after a time', async () => {
    const clock = new ManualClock({ wallNow: 1_000_000 })
    const registry = createCacheRegistry({ clock })
    let loads = 0
    const cache = registry.define({ name: 'things', key: 'things', ttlMs: 10_000, load: () => ({ n: ++loads }) })
    const history = new CacheHistory({ clock, caches: () => registry.list(), intervalMs: 1_000, windowMs: 5_000 })
    history.start()
    await cache.read()
    await cache.read()
    await clock.advance(1_000)
    expect(history.view().caches.things).toMatchObject({
      hits: [0, 1],
      misses: [0, 1],
      loads: [0, 1],
      entries: [0, 1],
      saved: [0, 1],
    })

    await clock.advance(20_000)
    const view = history.view()
    // 5 s of 1 s samples: the ring never grows past five.
    expect(view.times).toHaveLength(5)
    expect(view.times).toEqual([1_017_000, 1_018_000, 1_019_000, 1_020_000, 1_021_000])
    // Read within the idle window: refreshed ahead of its TTL, so the value held stays younger than it.
    expect(view.caches.things!.age_ms.at(-1)).toBeLessThan(10_000)
    expect(view.caches.things!.loads.at(-1)).toBeGreaterThan(1)
    expect(history.view(1_019_500).times).toEqual([1_020_000, 1_021_000])
    expect(view.redis.every((state) => state === null)).toBe(true)

    history.stop()
    await clock.advance(5_000)
    expect(history.view().times.at(-1)).toBe(1_021_000)
    registry.close()
  })

  it('adds a cache declared later with nulls before its first sample', async () => {
    const clock = new ManualClock()
    const registry = createCacheRegistry({ clock })
    registry.define({ name: 'first', key: 'first', ttlMs: 1_000, load: () => 1 })
    const history = new CacheHistory({ clock, caches: () => registry.list(), intervalMs: 1_000, windowMs: 60_000 })
    history.sample()
    registry.define({ name: 'second', key: 'second', ttlMs: 1_000, load: () => 2 })
    history.sample()
    expect(history.view().caches.second!.hits).toEqual([null, 0])
    expect(history.view().caches.first!.hits).toEqual([0, 0])
    registry.close()
  })
})
