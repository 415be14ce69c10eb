import { afterEach, describe, expect, it } from 'vitest'
import { settle, type CacheRead, type CacheRegistry } from '../../src/cache/index.js'
import { deferred, setup, Upstream } from './helpers.js'

let registry: CacheRegistry
afterEach(() => registry.close())

const TTL = 5_000
const LOAD_TIMEOUT = 10_000
const SOFT_TIMEOUT = 50

/** The read's answer if it came without waiting any longer, else 'waiting'. */
async function answerNow<V>(reading: Promise<CacheRead<V>>): Promise<CacheRead<V> | 'waiting'> {
  let answer: CacheRead<V> | 'waiting' = 'waiting'
  void reading.then((read) => (answer = read))
  await settle()
  return answer
}

type Overrides = { refreshAhead?: boolean; maxStaleMs?: number; softTimeoutMs?: number }

/** A registry on a manual clock (closed after the test) with plex_activities over a fresh upstream. */
function arrange(overrides: Overrides = {}) {
  let clock
  ;({ clock, registry } = setup())
  const upstream = new Upstream()
  const cache = registry.define({
    name: 'plex_activities',
    key: 'plex:activities',
    ttlMs: TTL,
    loadTimeoutMs: LOAD_TIMEOUT,
    softTimeoutMs: SOFT_TIMEOUT,
    ...overrides,
    load: upstream.load,
  })
  return { clock, upstream, cache }
}

describe('soft timeout: a reader waits at most softTimeoutMs for a load while an older value is held', () => {
  it('a reader during a refresh slower than the TTL gets the held value after the soft timeout, marked stale with its true age', async () => {
    const { clock, upstream, cache } = arrange()
    await cache.read()
    const gate = deferred()
    upstream.gate = gate
    await clock.advance(4_000) // refresh-ahead at 0.8 × TTL; Plex takes longer than the TTL
    expect(upstream.calls).toBe(2)
    await clock.advance(1_500)

    const reading = cache.read()
    await clock.advance(SOFT_TIMEOUT - 1)
    expect(await answerNow(reading), 'within the soft timeout the reader waits').toBe('waiting')
    await clock.advance(1)
    const read = await answerNow(reading)
    expect(read).toMatchObject({ outcome: 'stale', entry: { value: { version: 1 } } })
    expect((read as CacheRead<unknown>).error, 'no upstream failure to report').toBeUndefined()
    expect(cache.ageMs((read as CacheRead<{ version: number }>).entry)).toBe(5_500 + SOFT_TIMEOUT)
    expect(cache.counters).toMatchObject({ misses: 2, staleServes: 1, coalesced: 0, hits: 0, loads: 2 })

    gate.resolve()
    await settle()
    expect(await cache.read(), 'the load went on and landed for the next reader').toMatchObject({
      outcome: 'hit',
      entry: { value: { version: 2 } },
    })
    expect(upstream.calls).toBe(2)
  })

  it('a load that lands within the soft timeout answers the waiting reader with the new value', async () => {
    const { clock, upstream, cache } = arrange({ refreshAhead: false })
    await cache.read()
    await clock.advance(TTL + 1_000)
    const gate = deferred()
    upstream.gate = gate
    const first = cache.read()
    const second = cache.read()
    await clock.advance(SOFT_TIMEOUT - 1)
    gate.resolve()
    expect(await first).toMatchObject({ outcome: 'miss', entry: { value: { version: 2 } } })
    expect(await second).toMatchObject({ outcome: 'coalesced', entry: { value: { version: 2 } } })
    expect(cache.counters).toMatchObject({ misses: 2, coalesced: 1, staleServes: 0, loads: 2 })
    expect(clock.pendingTimers, 'no soft-timeout timer left behind').toBeLessThanOrEqual(1)
  })

  it('after an idle spell the reader that starts the load waits the soft timeout, not the upstream', async () => {
    const { clock, upstream, cache } = arrange()
    await cache.read()
    await clock.advance(10 * 60_000) // refreshed while in demand (60 s), then ten idle minutes in all
    const calls = upstream.calls
    const counters = { ...cache.counters }
    const gate = deferred()
    upstream.gate = gate

    const first = cache.read()
    const second = cache.read()
    await clock.advance(SOFT_TIMEOUT)
    for (const reading of [first, second]) {
      expect(await answerNow(reading)).toMatchObject({ outcome: 'stale', entry: { value: { version: calls } } })
    }
    expect(upstream.calls, 'one load for both').toBe(calls + 1)
    gate.resolve()
    await settle()
    expect(await cache.read()).toMatchObject({ outcome: 'hit', entry: { value: { version: calls + 1 } } })
    expect(cache.counters).toMatchObject({
      misses: counters.misses + 2,
      staleServes: counters.staleServes + 2,
      coalesced: counters.coalesced,
      hits: counters.hits + 1,
    })
  })

  it('with no value held the reader waits for the load, up to the hard timeout', async () => {
    const { clock, upstream, cache } = arrange()
    const gate = deferred()
    upstream.gate = gate
    const reads = [cache.read(), cache.read(), cache.read()]
    await clock.advance(LOAD_TIMEOUT - 1)
    expect(await answerNow(reads[1]!)).toBe('waiting')
    gate.resolve()
    expect((await Promise.all(reads)).map((read) => read.outcome)).toEqual(['miss', 'coalesced', 'coalesced'])
    expect(cache.counters).toMatchObject({ misses: 1, coalesced: 2, staleServes: 0 })

    upstream.gate = { promise: new Promise(() => {}), resolve() {}, reject() {} }
    registry.get('plex_activities')!.dropAll()
    const hanging = expect(cache.read()).rejects.toThrow(`did not finish within ${LOAD_TIMEOUT} ms`)
    await clock.advance(LOAD_TIMEOUT)
    await hanging
  })

  it('the retry after a backoff step waits the soft timeout on a frozen upstream, not the load timeout', async () => {
    const { clock, upstream, cache } = arrange({ refreshAhead: false })
    await cache.read()
    await clock.advance(TTL)
    upstream.failing = new Error('Plex answered 503')
    expect(await cache.read()).toMatchObject({ outcome: 'stale', error: upstream.failing })
    await clock.advance(1_000) // the first backoff step is over: the next reader retries
    upstream.failing = undefined
    upstream.gate = { promise: new Promise(() => {}), resolve() {}, reject() {} } // Plex frozen
    const retry = cache.read()
    await clock.advance(SOFT_TIMEOUT)
    expect(await answerNow(retry)).toMatchObject({ outcome: 'stale', entry: { value: { version: 1 } } })
    expect(upstream.calls).toBe(3)
    const during = cache.read()
    await clock.advance(SOFT_TIMEOUT)
    expect(await answerNow(during), 'a reader joining the frozen retry').toMatchObject({ outcome: 'stale' })
    await clock.advance(LOAD_TIMEOUT)
    expect(cache.counters.loadErrors, 'the frozen load still times out in the background').toBe(2)
  })

  it('maxStaleMs 0 holds nothing past the TTL: the reader waits for the load', async () => {
    const { clock, upstream, cache } = arrange({ maxStaleMs: 0 })
    await cache.read()
    const gate = deferred()
    upstream.gate = gate
    await clock.advance(TTL + 500)
    expect(upstream.calls, 'the refresh is in flight').toBe(2)
    const reading = cache.read()
    await clock.advance(SOFT_TIMEOUT * 10)
    expect(await answerNow(reading)).toBe('waiting')
    gate.resolve()
    expect(await reading).toMatchObject({ outcome: 'coalesced', entry: { value: { version: 2 } } })
    expect(cache.counters.staleServes).toBe(0)
  })

  it('a clear during the soft wait leaves nothing stale to serve: the reader gets the load', async () => {
    const { clock, upstream, cache } = arrange({ refreshAhead: false })
    await cache.read()
    await clock.advance(TTL)
    const gate = deferred()
    upstream.gate = gate
    const reading = cache.read()
    await settle()
    await cache.clear()
    await clock.advance(SOFT_TIMEOUT)
    expect(await answerNow(reading)).toBe('waiting')
    gate.resolve()
    expect(await reading).toMatchObject({ outcome: 'miss', entry: { value: { version: 2 } } })
  })
})
