import { describe, expect, it } from 'vitest'
import { createCacheRegistry, systemClock } from '../../src/cache/index.js'
import { RedisFlightCoordinator } from '../../src/cache/redis/index.js'
import { redisTestScope, sharedSettings } from './helpers.js'
import { sleep } from '../support/eventually.js'

const { layers, registries, raw, prefix } = redisTestScope()

/** A slow upstream shared by every instance: counts loads per key. */
class SlowUpstream {
  readonly loads = new Map<number, number>()
  constructor(private readonly ms: number) {}

  readonly load = async (n: number): Promise<{ n: number }> => {
    this.loads.set(n, (this.loads.get(n) ?? 0) + 1)
    await sleep(this.ms)
    return { n }
  }
}

async function instances(count: number, p: string, upstream: SlowUpstream, lockLeaseMs?: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const layer = await layers.create(sharedSettings(p), { lockLeaseMs })
      const registry = createCacheRegistry({ shared: layer.shared, coordinator: layer.coordinator, bus: layer.bus })
      registries.push(registry)
      const history = registry.define({
        name: 'watch_history',
        key: 'plex:watch_history',
        ttlMs: 60_000,
        keyOf: (n: number) => `limit=${n}`,
        load: upstream.load,
      })
      return { layer, registry, history }
    }),
  )
}

describe('cross-instance single flight on a Redis lock', () => {
  it('several instances missing the same keys at once make one upstream call per key', async () => {
    const upstream = new SlowUpstream(150)
    const all = await instances(4, prefix('lock-one'), upstream)
    const reads = []
    for (const { history } of all)
      for (let round = 0; round < 5; round++) for (const n of [1, 2, 3]) reads.push(history.read(n))
    const results = await Promise.all(reads)

    expect(Object.fromEntries(upstream.loads)).toEqual({ 1: 1, 2: 1, 3: 1 })
    for (const result of results) expect(result.entry.value).toEqual({ n: expect.any(Number) })
    const sharedHits = all.reduce((sum, { history }) => sum + history.counters.sharedHits, 0)
    expect(sharedHits, 'the three other instances took each key from Redis').toBe(9)
  })

  it('a load longer than the lease keeps its lock extended: still one call', async () => {
    const upstream = new SlowUpstream(700)
    const all = await instances(3, prefix('lock-extend'), upstream, 300)
    await Promise.all(all.map(({ history }) => history.read(7)))
    expect(upstream.loads.get(7)).toBe(1)
  })

  it('waiters load themselves once a dead holder’s lease runs out', async () => {
    const p = prefix('lock-dead')
    const upstream = new SlowUpstream(0)
    const [only] = await instances(1, p, upstream)
    // A holder that died: its lock stays until its lease expires.
    await raw.set(`${p}lock:plex:watch_history:limit=9`, 'dead-instance', 'PX', 300)
    const started = performance.now()
    const read = await only!.history.read(9)
    const waitedMs = performance.now() - started
    expect(read.entry.value).toEqual({ n: 9 })
    expect(upstream.loads.get(9)).toBe(1)
    expect(waitedMs).toBeGreaterThanOrEqual(250)
    expect(waitedMs).toBeLessThan(2_000)
  })

  it('releases only its own lock: a lock that expired and was taken by another stays', async () => {
    const p = prefix('lock-token')
    const layer = await layers.create(sharedSettings(p))
    const coordinator = new RedisFlightCoordinator({
      redis: layer.redis,
      breaker: layer.breaker,
      clock: systemClock,
      shared: layer.shared,
      lockPrefix: `${p}lock:`,
      leaseMs: 200,
    })
    const result = await coordinator.run('plex:stats', async () => {
      // Our lease ran out during the load and another instance took the lock.
      await raw.set(`${p}lock:plex:stats`, 'other-instance', 'PX', 60_000)
      return 'loaded'
    })
    expect(result).toBe('loaded')
    await sleep(50)
    expect(await raw.get(`${p}lock:plex:stats`)).toBe('other-instance')
  })

  it('does not load a key another instance wrote a moment ago (it missed just before the write)', async () => {
    const p = prefix('lock-late')
    const [a, b] = [await layers.create(sharedSettings(p)), await layers.create(sharedSettings(p))]
    // a's load finished and its lock is gone by the time b, which missed before a's write, locks.
    await a.shared.set('plex:stats', { json: '{"peak":2}', fetchedAt: 0 }, 60_000, 0)
    let loads = 0
    expect(await b.coordinator.run('plex:stats', async () => ++loads)).toBeUndefined()
    expect(loads).toBe(0)
    expect(await raw.exists(`${p}lock:plex:stats`), 'and it let the lock go').toBe(0)

    // An older value is reloaded as usual.
    await raw.set(`${p}plex:stats`, 'j0:60000\n{"peak":1}', 'PX', 55_000)
    expect(await b.coordinator.run('plex:stats', async () => ++loads)).toBe(1)
  })

  it('releases its lock when the load fails, so others need not wait out the lease', async () => {
    const p = prefix('lock-fail')
    const layer = await layers.create(sharedSettings(p), { lockLeaseMs: 60_000 })
    await expect(
      layer.coordinator.run('plex:stats', () => Promise.reject(new Error('Plex answered 503'))),
    ).rejects.toThrow('503')
    await sleep(50)
    expect(await raw.exists(`${p}lock:plex:stats`)).toBe(0)
  })

  it('with the breaker open, loads here at once and ignores a held lock', async () => {
    const p = prefix('lock-open')
    const layer = await layers.create(sharedSettings(p))
    await raw.set(`${p}lock:plex:stats`, 'other-instance', 'PX', 60_000)
    layer.breaker.trip(new Error('drill'))
    const started = performance.now()
    expect(await layer.coordinator.run('plex:stats', async () => 'local')).toBe('local')
    expect(performance.now() - started).toBeLessThan(50)
  })
})
