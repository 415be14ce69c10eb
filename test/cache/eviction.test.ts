import { describe, expect, it } from 'vitest'
import {
  createByteMap,
  EVICTION_POLICIES,
  FrequencySketch,
  hashString,
  WTinyLfu,
  type RemovalReason,
} from '../../src/cache/eviction/index.js'
import { createCacheRegistry, ManualClock } from '../../src/cache/index.js'

interface Sized {
  readonly bytes: number
}
const sized = (bytes: number): Sized => ({ bytes })

function tinyLfu(maxBytes: number, windowFraction: number, removed: Array<[string, RemovalReason]> = []) {
  return new WTinyLfu<string, Sized>({
    maxBytes,
    windowFraction,
    sizeOf: (value) => value.bytes,
    onRemove: (_value, key, reason) => removed.push([key, reason]),
  })
}

describe.each(EVICTION_POLICIES)('a byte map with eviction %s', (policy) => {
  it('never holds more bytes than its budget and reports every removal with its reason', () => {
    const removed: Array<[string, RemovalReason]> = []
    const map = createByteMap<string, Sized>(policy, {
      maxBytes: 1_000,
      sizeOf: (value) => value.bytes,
      onRemove: (_value, key, reason) => removed.push([key, reason]),
    })
    let held = 0
    for (let i = 0; i < 200; i++) {
      map.set(`k${i}`, sized(37 + ((i * 53) % 300)))
      expect(map.calculatedSize).toBeLessThanOrEqual(1_000)
    }
    for (let i = 0; i < 200; i++) if (map.has(`k${i}`)) held += map.peek(`k${i}`)!.bytes
    expect(map.calculatedSize).toBe(held)
    expect(removed.length).toBe(200 - map.size)
    expect(removed.every(([, reason]) => reason === 'evict')).toBe(true)

    const kept = [...Array(200).keys()].map((i) => `k${i}`).find((key) => map.has(key))!
    map.set(kept, sized(10))
    expect(removed.at(-1)).toEqual([kept, 'set'])
    expect(map.delete(kept)).toBe(true)
    expect(removed.at(-1)).toEqual([kept, 'delete'])
    expect(map.delete(kept)).toBe(false)
  })

  it('does not hold an entry larger than the whole budget', () => {
    const map = createByteMap<string, Sized>(policy, { maxBytes: 100, sizeOf: (value) => value.bytes })
    map.set('small', sized(40))
    map.set('huge', sized(101))
    expect(map.has('huge')).toBe(false)
    expect(map.peek('small')).toEqual(sized(40))
  })

  it('rejects a budget that is not a positive whole number of bytes', () => {
    expect(() => createByteMap(policy, { maxBytes: 0, sizeOf: () => 1 })).toThrow(
      'maxBytes 0 is not a positive whole number of bytes',
    )
  })
})

describe('W-TinyLFU', () => {
  /** Ten entries of 100 bytes in a budget of 1000: a..i on probation (oldest first), j in the 100-byte window. */
  function fullTen(removed: Array<[string, RemovalReason]> = []) {
    const map = tinyLfu(1_000, 0.1, removed)
    for (const key of 'abcdefghij') map.set(key, sized(100))
    return map
  }

  it('puts new entries in the window and moves what the window pushes out to probation', () => {
    const map = fullTen()
    expect(map.segmentOf('j')).toBe('window')
    expect([...'abcdefghi'].every((key) => map.segmentOf(key) === 'probation')).toBe(true)
    expect(map.segments()).toEqual({ window: 100, probation: 900, protected: 0 })
  })

  it('window admission: a candidate no more frequent than the victim leaves, a more frequent one takes its place', () => {
    const removed: Array<[string, RemovalReason]> = []
    const map = fullTen(removed)
    map.set('k', sized(100)) // j (seen once) meets the victim a (seen once): j leaves
    expect(removed).toEqual([['j', 'evict']])
    expect(map.has('a')).toBe(true)

    map.get('k')
    map.get('k') // k: seen three times
    map.set('l', sized(100)) // k meets a (seen once): a leaves, k is admitted to probation
    expect(removed.at(-1)).toEqual(['a', 'evict'])
    expect(map.segmentOf('k')).toBe('probation')
    expect(map.frequency('k')).toBe(3)
  })

  it('a hit on probation promotes to protected; protected over its share demotes its oldest back to probation', () => {
    // Budget 1000, window 100, protected 80 % of the main 900 = 720: seven entries of 100.
    const map = fullTen()
    for (const key of 'abcdefgh') map.get(key)
    expect([...'bcdefgh'].every((key) => map.segmentOf(key) === 'protected')).toBe(true)
    expect(map.segmentOf('a')).toBe('probation') // demoted when h made protected 800 bytes
    expect(map.segments().protected).toBe(700)
    map.get('a')
    expect(map.segmentOf('a')).toBe('protected')
    expect(map.segmentOf('b')).toBe('probation')
  })

  it('resists a scan: one pass over many keys does not push out the entries read every day', () => {
    const hot = Array.from({ length: 20 }, (_, i) => `hot${i}`)
    const results: Record<string, number> = {}
    for (const policy of EVICTION_POLICIES) {
      const map = createByteMap<string, Sized>(policy, { maxBytes: 10_000, sizeOf: (value) => value.bytes })
      for (let round = 0; round < 5; round++) {
        for (const key of hot) if (map.get(key) === undefined) map.set(key, sized(100))
      }
      for (let i = 0; i < 500; i++) if (map.get(`scan${i}`) === undefined) map.set(`scan${i}`, sized(100))
      results[policy] = hot.filter((key) => map.has(key)).length
    }
    expect(results).toEqual({ lru: 0, 'w-tinylfu': 20 })
  })

  it('honours the byte budget with entries of mixed sizes, one larger than the window', () => {
    const removed: Array<[string, RemovalReason]> = []
    const map = fullTen(removed)
    map.set('poster', sized(450)) // larger than the window: a candidate at once, seen once
    expect(map.calculatedSize).toBeLessThanOrEqual(1_000)
    expect(map.has('poster')).toBe(false)
    for (let i = 0; i < 3; i++) map.set('poster', sized(450))
    expect(map.calculatedSize).toBeLessThanOrEqual(1_000)
  })
})

describe('the frequency sketch', () => {
  it('counts accesses per key, saturating at 15', () => {
    const sketch = new FrequencySketch(64)
    const a = hashString('a')
    for (let i = 0; i < 5; i++) sketch.increment(a)
    expect(sketch.frequency(a)).toBe(5)
    for (let i = 0; i < 30; i++) sketch.increment(a)
    expect(sketch.frequency(a)).toBe(15)
    expect(sketch.frequency(hashString('never seen'))).toBe(0)
  })

  it('ages: after sampleFactor × capacity increments every count is halved', () => {
    const sketch = new FrequencySketch(16, 2)
    expect(sketch.resetAfter).toBe(32)
    const hot = hashString('hot')
    for (let i = 0; i < 12; i++) sketch.increment(hot)
    expect(sketch.frequency(hot)).toBe(12)
    for (let i = 0; i < 19; i++) sketch.increment(hashString(`other${i}`))
    expect(sketch.frequency(hot)).toBe(12) // 31 increments so far
    sketch.increment(hashString('one more'))
    expect(sketch.frequency(hot)).toBe(6)
    expect(sketch.sinceReset).toBe(16)
  })

  it('aging lets a newly popular key win admission over one that was popular long ago', () => {
    const map = new WTinyLfu<string, Sized>({
      maxBytes: 1_000,
      windowFraction: 0.1,
      sampleFactor: 1,
      sizeOf: (value) => value.bytes,
    })
    for (const key of 'abcdefghij') map.set(key, sized(100))
    for (let i = 0; i < 8; i++) map.get('a')
    const before = map.frequency('a')
    for (let i = 0; i < 40; i++) map.get('j') // many increments: the sketch halves at least once
    expect(map.frequency('a')).toBeLessThan(before)
  })
})

describe('a registry with CACHE_EVICTION=w-tinylfu', () => {
  it('keeps per-cache entries, bytes and evictions exact under its byte budget', async () => {
    const registry = createCacheRegistry({ clock: new ManualClock(), maxBytes: 1_000, eviction: 'w-tinylfu' })
    const pages = registry.define({
      name: 'pages',
      key: 'pages',
      ttlMs: 60_000,
      keyOf: (n: number) => String(n),
      load: (n: number) => 'x'.repeat(98 + n),
    })
    for (let n = 0; n < 30; n++) await pages.read(n)
    const stats = pages.stats()
    expect(stats.entries).toBeGreaterThan(0)
    expect(stats.entries + stats.evictions).toBe(30)
    expect(stats.bytes).toBeLessThanOrEqual(1_000)
    registry.close()
  })
})
