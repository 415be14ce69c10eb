import { afterEach, describe, expect, it } from 'vitest'
import { REFRESH_JITTER, type CacheRegistry } from '../../src/cache/index.js'
import { sessionsOverUpstream, setup, Upstream } from './helpers.js'

let registry: CacheRegistry
afterEach(() => registry.close())

const TTL = 10_000

describe('refresh ahead', () => {
  it('reloads a key in demand at refreshAheadAt × TTL, so that its readers never wait', async () => {
    const { clock, upstream, sessions, registry: opened } = sessionsOverUpstream()
    registry = opened
    await sessions.read()

    await clock.advance(7_999)
    expect(upstream.calls).toBe(1)
    await clock.advance(1)
    expect(upstream.calls).toBe(2)
    const read = await sessions.read()
    expect(read.outcome).toBe('hit')
    expect(read.entry.value).toEqual({ version: 2 })
    expect(sessions.ageMs(read.entry)).toBe(0)
    expect(sessions.counters).toMatchObject({ refreshes: 1, misses: 1, hits: 1 })
  })

  it('keeps refreshing while read within idleWindowMs and stops once idle', async () => {
    const { clock, upstream, sessions, registry: opened } = sessionsOverUpstream({ idleWindowMs: 60_000 })
    registry = opened
    await sessions.read()
    await clock.advance(200_000)
    // Refreshes at 8, 16, ... 56 s: each within 60 s of the only read at 0 s.
    expect(upstream.calls).toBe(1 + 7)
    expect(sessions.counters.refreshes).toBe(7)
  })

  it('never reloads an idle key', async () => {
    const {
      clock,
      upstream,
      sessions,
      registry: opened,
    } = sessionsOverUpstream({ idleWindowMs: 5_000, maxStaleMs: 60_000 })
    registry = opened
    await sessions.read()
    await clock.advance(500_000)
    expect(upstream.calls).toBe(1)
    expect(sessions.counters.refreshes).toBe(0)
    expect(sessions.counters.entries, 'dropped after TTL + maxStale').toBe(0)
    expect(clock.pendingTimers).toBe(0)
  })

  it('a peek past the refresh point of a key the timer found idle refreshes it in the background', async () => {
    const { clock, upstream, sessions, registry: opened } = sessionsOverUpstream({ idleWindowMs: 5_000 })
    registry = opened
    await sessions.read()
    await clock.advance(9_000)
    expect(upstream.calls).toBe(1)

    const old = sessions.peek()
    expect(old?.value).toEqual({ version: 1 })
    await clock.advance(0)
    expect(upstream.calls).toBe(2)
    expect(sessions.peek()?.value).toEqual({ version: 2 })
  })

  it('a failed refresh keeps serving the old value, counts the error and retries after the backoff', async () => {
    const { clock, upstream, sessions, registry: opened } = sessionsOverUpstream()
    registry = opened
    await sessions.read()
    upstream.failing = new Error('Plex answered 503')

    await clock.advance(8_000)
    expect(upstream.calls).toBe(2)
    const during = await sessions.read()
    expect(during.outcome).toBe('hit')
    expect(during.entry.value).toEqual({ version: 1 })
    expect(sessions.counters.loadErrors).toBe(1)

    await clock.advance(999)
    expect(upstream.calls).toBe(2)
    await clock.advance(1)
    expect(upstream.calls, 'retried when the 1 s step passed').toBe(3)

    upstream.failing = undefined
    await clock.advance(2_000)
    expect(upstream.calls, 'retried when the 2 s step passed').toBe(4)
    expect((await sessions.read()).entry.value).toEqual({ version: 4 })
  })

  it('fires up to 5 % of the TTL early with jitter, never late', async () => {
    expect(REFRESH_JITTER).toBe(0.05)
    for (const random of [0, 0.25, 0.5, 0.999]) {
      let clock
      ;({ clock, registry } = setup({ random: () => random }))
      const upstream = new Upstream()
      const sessions = registry.define({ name: 'plex_sessions', key: 'plex:sessions', ttlMs: TTL, load: upstream.load })
      await sessions.read()
      const due = 0.8 * TTL - random * REFRESH_JITTER * TTL
      expect(due).toBeGreaterThanOrEqual(0.75 * TTL)
      expect(due).toBeLessThanOrEqual(0.8 * TTL)

      await clock.advance(Math.ceil(due) - 1)
      expect(upstream.calls, `random ${random}: not before ${due} ms`).toBe(1)
      await clock.advance(1)
      expect(upstream.calls, `random ${random}: at ${due} ms`).toBe(2)
      registry.close()
    }
  })

  it('refreshAhead: false never reloads in the background', async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream()
    const stats = registry.define({
      name: 'background_stats',
      key: 'stats:dashboard',
      ttlMs: TTL,
      refreshAhead: false,
      load: upstream.load,
    })
    await stats.read()
    for (let t = 0; t < 9; t++) {
      await clock.advance(1_000)
      stats.peek()
    }
    expect(upstream.calls).toBe(1)
    expect(stats.counters.refreshes).toBe(0)
  })
})
