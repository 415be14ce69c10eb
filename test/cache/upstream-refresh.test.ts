import { afterEach, describe, expect, it } from 'vitest'
import { LocalBus, ManualClock, MemorySharedLayer, settle, type CacheRegistry } from '../../src/cache/index.js'
import { deferred, setup, Upstream } from './helpers.js'

const open: CacheRegistry[] = []
afterEach(() => {
  for (const registry of open.splice(0)) registry.close()
})

const TTL = 10_000

function oneInstance(options: { idleWindowMs?: number } = {}) {
  const { clock, registry } = setup({ defaults: { refreshAhead: false, ...options } })
  open.push(registry)
  const upstream = new Upstream()
  const sessions = registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: TTL, load: upstream.load })
  return { clock, registry, upstream, sessions }
}

describe('refresh: reload on an upstream change, serving the held value meanwhile', () => {
  it('readers keep the held value (hit, then stale past the TTL) until the new one lands', async () => {
    const { clock, registry, upstream, sessions } = oneInstance()
    await sessions.read()
    await clock.advance(9_000)
    const gate = deferred()
    upstream.gate = gate
    const refreshing = registry.refresh('plex_sessions')
    await settle()
    expect(upstream.calls).toBe(2)
    expect(await sessions.read()).toMatchObject({ outcome: 'hit', entry: { value: { version: 1 } } })
    await clock.advance(2_000)
    const reading = sessions.read()
    await clock.advance(50) // the soft timeout
    expect(await reading).toMatchObject({ outcome: 'stale', entry: { value: { version: 1 } } })

    gate.resolve()
    expect(await refreshing).toEqual({ name: 'plex_sessions', ok: true, keys: 1 })
    expect(await sessions.read()).toMatchObject({ outcome: 'hit', entry: { value: { version: 2 } } })
    expect(sessions.counters).toMatchObject({ misses: 2, coalesced: 0, refreshes: 1, loads: 2 })
  })

  it('a change during a load in flight costs exactly one more load after it', async () => {
    const { upstream, sessions } = oneInstance()
    await sessions.read()
    const gate = deferred()
    upstream.gate = gate
    const first = sessions.refresh()
    await settle()
    const later = [sessions.refresh(), sessions.refresh(), sessions.refresh()]
    gate.resolve()
    await Promise.all([first, ...later])
    expect(upstream.calls).toBe(3)
    expect(sessions.peek()?.value).toEqual({ version: 3 })
  })

  it("a change during a reader's first load lets it store its value, then reloads behind it", async () => {
    const { upstream, sessions } = oneInstance()
    const gate = deferred()
    upstream.gate = gate
    const first = sessions.read()
    await settle()
    const refreshing = sessions.refresh()
    gate.resolve()
    expect(await first).toMatchObject({ outcome: 'miss', entry: { value: { version: 1 } } })
    expect(sessions.peek()?.value, 'held, not dropped').toEqual({ version: 1 })
    expect(await refreshing).toMatchObject({ ok: true })
    expect(sessions.peek()?.value).toEqual({ version: 2 })
    expect(sessions.counters).toMatchObject({ misses: 1, coalesced: 0, loads: 2 })
  })

  it('a key nobody read within the idle window is dropped instead of reloaded', async () => {
    const { clock, upstream, sessions } = oneInstance({ idleWindowMs: 5_000 })
    await sessions.read()
    await clock.advance(6_000)
    expect(await sessions.refresh()).toMatchObject({ ok: true })
    expect(upstream.calls).toBe(1)
    expect(sessions.counters).toMatchObject({ entries: 0, refreshes: 0 })
    expect(await sessions.read()).toMatchObject({ outcome: 'miss', entry: { value: { version: 2 } } })
  })

  it('a warmed key nobody read yet is reloaded within the idle window, dropped after it', async () => {
    const { clock, upstream, sessions } = oneInstance({ idleWindowMs: 5_000 })
    await sessions.warm()
    expect(await sessions.refresh()).toMatchObject({ ok: true })
    expect(upstream.calls, 'the change reloads the warmed value').toBe(2)
    expect(sessions.peek()?.value).toEqual({ version: 2 })
    await clock.advance(5_001)
    expect(await sessions.refresh()).toMatchObject({ ok: true })
    expect(upstream.calls, 'past the idle window with no reader: dropped').toBe(2)
    expect(sessions.counters).toMatchObject({ entries: 0 })
  })

  it('during backoff the reload waits for the step to end', async () => {
    const { clock, upstream, sessions } = oneInstance()
    await sessions.read()
    upstream.failing = new Error('Plex answered 503')
    expect((await sessions.refresh()).ok).toBe(false)
    expect(upstream.calls).toBe(2)
    expect(await sessions.refresh()).toMatchObject({ ok: false, error: 'Plex answered 503' })
    expect(upstream.calls, 'no call within the 1 s step').toBe(2)
    upstream.failing = undefined
    await clock.advance(1_000)
    expect(upstream.calls, 'the step ended: reloaded').toBe(3)
    expect(sessions.peek()?.value).toEqual({ version: 3 })
  })
})

describe('refresh across instances', () => {
  function twoInstances() {
    const clock = new ManualClock()
    const shared = new MemorySharedLayer(clock)
    const bus = new LocalBus()
    const upstream = new Upstream()
    const [a, b] = [0, 1].map(() => {
      const { registry } = setup({ clock, shared, bus, defaults: { refreshAhead: false } })
      open.push(registry)
      return registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: TTL, load: upstream.load })
    })
    return { clock, upstream, a: a!, b: b! }
  }

  it('skips the shared layer, then the other instance drops its copy and takes the new value from the shared layer', async () => {
    const { upstream, a, b } = twoInstances()
    await a.read()
    expect(await b.read()).toMatchObject({ outcome: 'hit', entry: { value: { version: 1 } } })

    expect((await a.refresh()).ok).toBe(true)
    expect(upstream.calls, 'the shared value was the old one: loaded').toBe(2)
    await settle()
    expect(b.peek(), 'the bus dropped the old copy').toBeUndefined()
    expect(await b.read()).toMatchObject({ outcome: 'hit', entry: { value: { version: 2 } } })
    expect(b.counters).toMatchObject({ sharedHits: 2, loads: 0 })
    expect(upstream.calls).toBe(2)
  })

  it('reloads a key another instance reads even when this one does not', async () => {
    const { clock, upstream, a, b } = twoInstances()
    await a.read()
    await clock.advance(61_000) // idle on a
    await b.read() // b reads it: a load, the shared layer holds a fresh value
    expect(upstream.calls).toBe(2)
    expect((await a.refresh()).ok).toBe(true)
    expect(upstream.calls, "nobody read it on a, but the shared layer's fresh value says someone does").toBe(3)
    await settle()
    expect(await b.read()).toMatchObject({ outcome: 'hit', entry: { value: { version: 3 } } })
  })
})
