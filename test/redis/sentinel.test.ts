import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCacheRegistry, type CacheRegistry } from '../../src/cache/index.js'
import type { RedisSettings } from '../../src/cache/redis/index.js'
import { Layers, PrivateRedis, PrivateSentinel } from './helpers.js'
import { eventually } from '../support/eventually.js'

let master: PrivateRedis
let replica: PrivateRedis
let sentinel: PrivateSentinel
const layers = new Layers()
const registries: CacheRegistry[] = []

beforeAll(async () => {
  master = await PrivateRedis.start()
  replica = await PrivateRedis.start(['--replicaof', '127.0.0.1', String(master.port)])
  sentinel = await PrivateSentinel.start(master)
}, 20_000)
afterEach(async () => {
  for (const registry of registries.splice(0)) registry.close()
  await layers.closeAll()
})
afterAll(async () => {
  await sentinel?.stop()
  await Promise.all([replica?.stop(), master?.stop()])
})

function settings(prefix: string): RedisSettings {
  return {
    url: null,
    host: '127.0.0.1',
    port: 1,
    db: 0,
    password: null,
    keyPrefix: prefix,
    timeoutMs: 1_000,
    sentinels: [{ host: '127.0.0.1', port: sentinel.port }],
    sentinelName: 'mymaster',
  }
}

describe('Redis Sentinel', () => {
  it('finds the master through the sentinel and shares values between instances', async () => {
    const a = await layers.create(settings('s1:'))
    const b = await layers.create(settings('s1:'))
    expect(a.status().mode).toBe('sentinel')
    const [ra, rb] = [a, b].map((layer) => {
      const registry = createCacheRegistry({ shared: layer.shared, coordinator: layer.coordinator, bus: layer.bus })
      registries.push(registry)
      return registry.define({ name: 'plex_stats', key: 'plex:stats', ttlMs: 60_000, load: () => ({ peak: 4 }) })
    })
    await ra!.read()
    expect((await rb!.read()).outcome).toBe('hit')
    const direct = new Redis(master.url)
    try {
      expect(await direct.exists('s1:plex:stats'), 'written to the master the sentinel named').toBe(1)
    } finally {
      direct.disconnect()
    }
  })

  it('follows a failover to the promoted replica', async () => {
    const layer = await layers.create(settings('s2:'))
    await master.kill()
    await eventually(
      'the layer answers again, from the promoted replica',
      async () => {
        await layer.shared.set('plex:stats', { json: '1', fetchedAt: 0 }, 60_000, 0)
        return (await layer.shared.get('plex:stats')) !== undefined
      },
      15_000,
    )
    const promoted = new Redis(replica.url)
    try {
      expect(await promoted.exists('s2:plex:stats')).toBe(1)
      expect((await promoted.info('replication')) as string).toContain('role:master')
    } finally {
      promoted.disconnect()
    }
  })
})
