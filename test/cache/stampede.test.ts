import { afterEach, describe, expect, it } from 'vitest'
import { settle, type CacheRegistry } from '../../src/cache/index.js'
import { deferred, setup, Upstream } from './helpers.js'

let registry: CacheRegistry
afterEach(() => registry.close())

describe('single flight on a cold key', () => {
  for (const readers of [10, 100, 1000]) {
    it(`${readers} concurrent readers make one loader call and all get the same value`, async () => {
      ;({ registry } = setup())
      const upstream = new Upstream()
      upstream.gate = deferred()
      const sessions = registry.define({
        name: 'plex_sessions',
        key: 'plex:sessions',
        ttlMs: 10_000,
        load: upstream.load,
      })

      const reads = Array.from({ length: readers }, () => sessions.read())
      await settle()
      upstream.gate.resolve()
      const results = await Promise.all(reads)

      expect(upstream.calls).toBe(1)
      expect(new Set(results.map((read) => read.entry)).size).toBe(1)
      expect(results[0]?.entry.value).toEqual({ version: 1 })
      expect(results.filter((read) => read.outcome === 'miss')).toHaveLength(1)
      expect(results.filter((read) => read.outcome === 'coalesced')).toHaveLength(readers - 1)
      expect(sessions.counters).toMatchObject({ misses: 1, coalesced: readers - 1, hits: 0, loads: 1 })
    })

    it(`${readers} concurrent readers of a failing loader make one call and all get the same error`, async () => {
      ;({ registry } = setup())
      const upstream = new Upstream()
      upstream.gate = deferred()
      upstream.failing = new Error('Plex answered 503')
      const sessions = registry.define({
        name: 'plex_sessions',
        key: 'plex:sessions',
        ttlMs: 10_000,
        load: upstream.load,
      })

      const reads = Array.from({ length: readers }, () => sessions.read())
      await settle()
      upstream.gate.resolve()
      const settled = await Promise.allSettled(reads)

      expect(upstream.calls).toBe(1)
      const reasons = new Set(settled.map((result) => (result.status === 'rejected' ? result.reason : 'fulfilled')))
      expect([...reasons]).toEqual([upstream.failing])
      expect(sessions.counters).toMatchObject({ misses: 1, coalesced: readers - 1, loadErrors: 1, entries: 0 })
    })
  }

  it('a read after the load settled starts no second call', async () => {
    ;({ registry } = setup())
    const upstream = new Upstream()
    const sessions = registry.define({
      name: 'plex_sessions',
      key: 'plex:sessions',
      ttlMs: 10_000,
      load: upstream.load,
    })
    await Promise.all([sessions.read(), sessions.read()])
    const again = await sessions.read()
    expect(again.outcome).toBe('hit')
    expect(upstream.calls).toBe(1)
  })
})
