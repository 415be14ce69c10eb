import { afterEach, describe, expect, it } from 'vitest'
import { settle, type CacheRead, type CacheRegistry } from '../../src/cache/index.js'
import { deferred, setup, Upstream } from './helpers.js'

let registry: CacheRegistry
afterEach(() => registry.close())

const TTL = 5_000
const LOAD_TIMEOUT = 30_000

/** The read's answer if it came without waiting on the upstream, else 'waiting'. */
async function answerNow<V>(reading: Promise<CacheRead<V>>): Promise<CacheRead<V> | 'waiting'> {
  let answer: CacheRead<V> | 'waiting' = 'waiting'
  void reading.then((read) => (answer = read))
  await settle()
  return answer
}

function activities(upstream: Upstream, overrides: { refreshAhead?: boolean; maxStaleMs?: number } = {}) {
  return registry.define({
    name: 'plex_activities',
    key: 'plex:activities',
    ttlMs: TTL,
    loadTimeoutMs: LOAD_TIMEOUT,
    ...overrides,
    load: upstream.load,
  })
}

describe('readers of an expired value never wait on a load in flight', () => {
  it('a reader during a refresh slower than the TTL gets the held value at once, marked stale', async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream()
    const cache = activities(upstream)
    await cache.read()
    const gate = deferred()
    upstream.gate = gate
    await clock.advance(4_000) // refresh-ahead at 0.8 × TTL; Plex takes 5 s
    expect(upstream.calls).toBe(2)
    await clock.advance(1_500)

    const read = await answerNow(cache.read())
    expect(read).toMatchObject({ outcome: 'stale', entry: { value: { version: 1 } } })
    expect((read as CacheRead<unknown>).error, 'no upstream failure to report').toBeUndefined()
    expect(cache.ageMs((read as CacheRead<{ version: number }>).entry)).toBe(5_500)
    expect(cache.counters).toMatchObject({ misses: 2, staleServes: 1, coalesced: 0, hits: 0, loads: 2 })

    gate.resolve()
    await settle()
    expect(await cache.read()).toMatchObject({ outcome: 'hit', entry: { value: { version: 2 } } })
    expect(upstream.calls).toBe(2)
  })

  it("a reader of a key another reader's miss is loading gets the held value; that reader waits", async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream()
    const cache = activities(upstream, { refreshAhead: false })
    await cache.read()
    await clock.advance(TTL + 1_000)
    const gate = deferred()
    upstream.gate = gate

    const first = cache.read()
    expect(await answerNow(first), 'the reader that started the load waits for it').toBe('waiting')
    expect(await answerNow(cache.read())).toMatchObject({ outcome: 'stale', entry: { value: { version: 1 } } })
    gate.resolve()
    expect(await first).toMatchObject({ outcome: 'miss', entry: { value: { version: 2 } } })
    expect(cache.counters).toMatchObject({ misses: 3, staleServes: 1, coalesced: 0, loads: 2 })
  })

  it('past TTL + loadTimeoutMs a reader waits for the load, counted as coalesced', async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream()
    const cache = activities(upstream, { refreshAhead: false })
    await cache.read()
    await clock.advance(TTL + LOAD_TIMEOUT - 1)
    const gate = deferred()
    upstream.gate = gate
    const started = cache.read()
    expect(await answerNow(cache.read()), 'just inside the bound').toMatchObject({ outcome: 'stale' })
    await clock.advance(1)
    const joined = cache.read()
    expect(await answerNow(joined), 'at the bound').toBe('waiting')
    gate.resolve()
    expect(await joined).toMatchObject({ outcome: 'coalesced', entry: { value: { version: 2 } } })
    await started
    expect(cache.counters).toMatchObject({ misses: 3, staleServes: 1, coalesced: 1, hits: 0, loads: 2 })
  })

  it('a key with no value held still coalesces on the load in flight', async () => {
    ;({ registry } = setup())
    const upstream = new Upstream()
    const cache = activities(upstream)
    const gate = deferred()
    upstream.gate = gate
    const reads = [cache.read(), cache.read(), cache.read()]
    expect(await answerNow(reads[1]!)).toBe('waiting')
    gate.resolve()
    expect((await Promise.all(reads)).map((read) => read.outcome)).toEqual(['miss', 'coalesced', 'coalesced'])
    expect(cache.counters).toMatchObject({ misses: 1, coalesced: 2, staleServes: 0 })
  })

  it('maxStaleMs 0 serves nothing past the TTL, a load in flight or not', async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream()
    const cache = activities(upstream, { maxStaleMs: 0 })
    await cache.read()
    const gate = deferred()
    upstream.gate = gate
    await clock.advance(TTL + 500)
    expect(upstream.calls, 'the refresh is in flight').toBe(2)
    const reading = cache.read()
    expect(await answerNow(reading)).toBe('waiting')
    gate.resolve()
    expect(await reading).toMatchObject({ outcome: 'coalesced', entry: { value: { version: 2 } } })
    expect(cache.counters.staleServes).toBe(0)
  })
})
