import { afterEach, describe, expect, it } from 'vitest'
import {
  LocalBus,
  ManualClock,
  MemorySharedLayer,
  settle,
  type Cache,
  type CacheRegistry,
} from '../../src/cache/index.js'
import { deferred, setup, Upstream } from './helpers.js'

const open: CacheRegistry[] = []
afterEach(() => {
  for (const registry of open.splice(0)) registry.close()
})

const TTL = 10_000

interface Value {
  version: number
  position?: number
}

/** Two instances sharing one shared layer and bus, as with Redis. */
function twoInstances() {
  const clock = new ManualClock()
  const shared = new MemorySharedLayer(clock)
  const bus = new LocalBus()
  const upstream = new Upstream<Value>()
  const instance = (): Cache<Value> => {
    const { registry } = setup({ clock, shared, bus, defaults: { refreshAhead: false } })
    open.push(registry)
    return registry.define<Value>({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: TTL, load: upstream.load })
  }
  return { clock, shared, upstream, a: instance(), b: instance() }
}

describe('patch: a held value replaced from a push notification, without a load', () => {
  it('stores a new entry (JSON, ETag, age 0) that readers get as a hit; the upstream is not called', async () => {
    const { clock, upstream, a } = twoInstances()
    const loaded = (await a.read()).entry
    await clock.advance(4_000)
    const outcome = await a.patch((value) => ({ ...value, position: 42 }))
    expect(outcome).toBe('patched')
    const read = await a.read()
    expect(read).toMatchObject({ outcome: 'hit', entry: { value: { version: 1, position: 42 } } })
    expect(read.entry.json).toBe('{"version":1,"position":42}')
    expect(read.entry.etag).not.toBe(loaded.etag)
    expect(a.ageMs(read.entry)).toBe(0)
    expect(read.entry.fetchedAt, 'still the time of the upstream fetch').toBe(loaded.fetchedAt)
    expect(loaded.value, 'the old value is left as it was').toEqual({ version: 1 })
    await clock.advance(TTL - 1)
    expect(a.peek(), 'fresh for a whole TTL from the patch').toBeDefined()
    expect(upstream.calls).toBe(1)
  })

  it('returning the same value confirms it: same bytes and ETag, its age restarts', async () => {
    const { clock, a } = twoInstances()
    const loaded = (await a.read()).entry
    await clock.advance(9_000)
    expect(await a.patch((value) => value)).toBe('confirmed')
    const entry = a.peek()!
    expect([entry.json, entry.etag, entry.fetchedAt]).toEqual([loaded.json, loaded.etag, loaded.fetchedAt])
    expect(a.ageMs(entry)).toBe(0)
    await clock.advance(9_999)
    expect(a.peek()).toBeDefined()
  })

  it('refuses what it cannot do right: nothing or only an expired value held, a load in flight, an update that needs a load', async () => {
    const { clock, upstream, a } = twoInstances()
    expect(await a.patch((value) => ({ ...value, position: 1 })), 'nothing held').toBe('not-fresh')
    await a.read()
    expect(await a.patch(() => undefined)).toBe('unpatchable')
    await clock.advance(TTL)
    expect(await a.patch((value) => ({ ...value, position: 1 })), 'expired: changes may have been missed').toBe(
      'not-fresh',
    )
    await a.read() // loads again
    const gate = deferred()
    upstream.gate = gate
    const refreshing = a.refresh()
    await settle()
    expect(await a.patch((value) => ({ ...value, position: 1 })), 'a load in flight may predate the change').toBe(
      'loading',
    )
    gate.resolve()
    await refreshing
  })

  it('a value in demand fetched refetchAfterMs ago is outdated; one nobody reads is still confirmed', async () => {
    const { clock, a } = twoInstances()
    await a.read()
    await clock.advance(6_000)
    expect(await a.patch((value) => value, undefined, { refetchAfterMs: 6_000 }), 'read just now: wants a load').toBe(
      'outdated',
    )
    expect(await a.patch((value) => value, undefined, { refetchAfterMs: 7_000 })).toBe('confirmed')
    for (let t = 0; t <= 60_000; t += 5_000) {
      await clock.advance(5_000)
      expect(await a.patch((value) => value, undefined, { refetchAfterMs: 3_600_000 })).toBe('confirmed')
    }
    expect(
      await a.patch((value) => value, undefined, { refetchAfterMs: 6_000 }),
      'past the idle window nobody reads it',
    ).toBe('confirmed')
    expect(a.stats().loads).toBe(1)
  })

  it('reaches the other instances: they drop their copy and take the patched value from the shared layer', async () => {
    const { clock, upstream, a, b } = twoInstances()
    await a.read()
    expect((await b.read()).entry.value).toEqual({ version: 1 })
    await clock.advance(1_000)
    await a.patch((value) => ({ ...value, position: 7 }))
    await settle()
    const onB = await b.read()
    expect(onB.entry.value).toEqual({ version: 1, position: 7 })
    expect(onB.entry.etag).toBe(a.peek()!.etag)
    expect(upstream.calls).toBe(1)
  })

  it('a clear wins: a patch after it finds nothing, and the shared layer keeps no patched value', async () => {
    const { shared, a } = twoInstances()
    await a.read()
    const patching = a.patch((value) => ({ ...value, position: 9 }))
    await a.clear()
    await patching
    expect(a.peek()).toBeUndefined()
    expect(await shared.get('plex:sessions')).toBeUndefined()
    expect(await a.patch((value) => ({ ...value, position: 10 }))).toBe('not-fresh')
  })
})
