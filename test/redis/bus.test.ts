import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCacheRegistry, type InvalidationMessage } from '../../src/cache/index.js'
import type { RedisSettings } from '../../src/cache/redis/index.js'
import { PrivateRedis, rawClient, redisTestScope, sharedSettings } from './helpers.js'
import { eventually, sleep } from '../support/eventually.js'

const { layers, registries, prefix: freshPrefix } = redisTestScope()

/** One service instance: a registry on its own Redis layer (its own connections). */
async function instance(settings: RedisSettings) {
  const layer = await layers.create(settings)
  await eventually('the invalidation subscription is live', () => layer.bus.subscribed)
  const registry = createCacheRegistry({ shared: layer.shared, coordinator: layer.coordinator, bus: layer.bus })
  registries.push(registry)
  let version = 0
  const sessions = registry.define({
    name: 'plex_sessions',
    key: 'plex:sessions',
    ttlMs: 60_000,
    load: () => ({ version: ++version }),
  })
  const history = registry.define({
    name: 'watch_history',
    key: 'plex:watch_history',
    ttlMs: 60_000,
    keyOf: (n: number) => `limit=${n}`,
    load: (n) => [n, ++version],
  })
  return { layer, registry, sessions, history }
}

describe('invalidation bus on Redis pub/sub', () => {
  it("a clear on one instance empties the other's memory within 100 ms", async () => {
    const prefix = freshPrefix('bus-clear')
    const a = await instance(sharedSettings(prefix))
    const b = await instance(sharedSettings(prefix))
    await a.sessions.read()
    await b.sessions.read()
    expect(b.sessions.peek()).toBeDefined()

    const started = performance.now()
    await a.registry.clear('plex_sessions')
    await eventually("b's memory misses", () => b.sessions.peek() === undefined, 1_000)
    expect(performance.now() - started).toBeLessThan(100)
    expect(a.sessions.peek()).toBeUndefined()
  })

  it('invalidate drops one key on the other instance and keeps its other keys', async () => {
    const prefix = freshPrefix('bus-invalidate')
    const a = await instance(sharedSettings(prefix))
    const b = await instance(sharedSettings(prefix))
    await Promise.all([b.history.read(5), b.history.read(10), b.sessions.read()])

    await a.registry.invalidate('watch_history', 5)
    await eventually("b's key limit=5 is dropped", () => b.history.peek(5) === undefined, 1_000)
    expect(b.history.peek(10)).toBeDefined()
    expect(b.sessions.peek()).toBeDefined()
  })

  it('clearAll on one instance empties every cache of the others', async () => {
    const prefix = freshPrefix('bus-clearall')
    const [a, b, c] = await Promise.all([
      instance(sharedSettings(prefix)),
      instance(sharedSettings(prefix)),
      instance(sharedSettings(prefix)),
    ])
    await Promise.all([b.sessions.read(), b.history.read(1), c.sessions.read()])
    await a.registry.clearAll()
    await eventually(
      'b and c hold nothing',
      () => !b.sessions.peek() && !b.history.peek(1) && !c.sessions.peek(),
      1_000,
    )
  })

  it('messages a bus did not write are ignored, not thrown', async () => {
    const prefix = freshPrefix('bus-garbage')
    const b = await instance(sharedSettings(prefix))
    await b.sessions.read()
    const seen: InvalidationMessage[] = []
    b.layer.bus.subscribe((message) => seen.push(message))
    const raw = rawClient()
    try {
      await raw.publish(`${prefix}invalidation`, 'not json')
      await raw.publish(`${prefix}invalidation`, '{"type":"clear","name":7}')
      await raw.publish(`${prefix}invalidation`, '{"type":"clear","name":"plex_sessions","origin":"elsewhere"}')
    } finally {
      raw.disconnect()
    }
    await eventually('the valid message arrives', () => seen.length > 0, 1_000)
    expect(seen).toEqual([{ type: 'clear', name: 'plex_sessions', origin: 'elsewhere' }])
    expect(b.sessions.peek()).toBeUndefined()
  })
})

describe('lost subscription (private redis-server)', () => {
  let server: PrivateRedis
  beforeAll(async () => {
    server = await PrivateRedis.start()
  })
  afterAll(async () => {
    await server.stop()
  })

  async function killSubscriptions(): Promise<void> {
    const admin = new Redis(server.url)
    try {
      await admin.client('KILL', 'TYPE', 'pubsub')
    } finally {
      admin.disconnect()
    }
  }

  it('an instance whose subscription dropped empties its memory once it has resubscribed', async () => {
    const b = await instance(server.settings('lost:', { timeoutMs: 1_000 }))
    const seen: InvalidationMessage[] = []
    b.layer.bus.subscribe((message) => seen.push(message))
    await b.sessions.read()
    await b.history.read(3)
    await sleep(100)
    expect(b.sessions.peek(), 'kept while the subscription holds').toBeDefined()

    await killSubscriptions()
    await eventually(
      'b resubscribed and dropped its memory',
      () => b.layer.bus.subscribed && b.sessions.peek() === undefined,
      3_000,
    )
    expect(b.history.peek(3)).toBeUndefined()
    expect(seen).toEqual([{ type: 'clear-all' }])
  })

  it('after Redis restarts, the resubscribed instance hears clears again', async () => {
    const a = await instance(server.settings('restart:', { timeoutMs: 1_000 }))
    const b = await instance(server.settings('restart:', { timeoutMs: 1_000 }))
    await server.kill()
    await server.restart()
    await eventually('both resubscribed', () => a.layer.bus.subscribed && b.layer.bus.subscribed, 5_000)
    await eventually('both command connections are back', () => a.layer.breaker.closed && b.layer.breaker.closed, 5_000)
    await b.sessions.read()
    await a.registry.clear('plex_sessions')
    await eventually("b's memory misses", () => b.sessions.peek() === undefined, 1_000)
  })

  it('status says whether the subscription is live', async () => {
    const b = await instance(server.settings('status:', { timeoutMs: 1_000 }))
    expect(b.layer.status()).toMatchObject({ mode: 'standalone', subscribed: true, connected: true, state: 'closed' })
    await server.kill()
    await eventually(
      'the status shows the loss',
      () => !b.layer.status().subscribed && !b.layer.status().connected,
      2_000,
    )
    expect(b.layer.status().state).not.toBe('closed')
    await server.restart()
  })
})
