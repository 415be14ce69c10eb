import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCacheRegistry, type CacheRegistry } from '../../src/cache/index.js'
import { keysUnder, Layers, PrivateCluster } from './helpers.js'
import { eventually, sleep } from '../support/eventually.js'

let cluster: PrivateCluster
const layers = new Layers()
const registries: CacheRegistry[] = []
let nodeClients: Redis[] = []

beforeAll(async () => {
  cluster = await PrivateCluster.start()
  nodeClients = cluster.nodes.map((node) => new Redis({ host: '127.0.0.1', port: node.port }))
}, 30_000)
afterEach(async () => {
  for (const registry of registries.splice(0)) registry.close()
  await layers.closeAll()
})
afterAll(async () => {
  for (const client of nodeClients) client.disconnect()
  await cluster?.stop()
})

/** Keys under `prefix` on each node. */
/** The value keys under `prefix` on each node; with `withIndex`, a keyed cache's bound index keys (`~`) too. */
async function keysPerNode(prefix: string, withIndex = false): Promise<string[][]> {
  const perNode = await Promise.all(nodeClients.map((client) => keysUnder(client, prefix)))
  return withIndex ? perNode : perNode.map((keys) => keys.filter((key) => !key.includes('~')))
}

async function instance(prefix: string, loads: Map<string, number>) {
  const layer = await layers.create(cluster.settings(prefix), { statsIntervalMs: 200 })
  await eventually('the invalidation subscription is live', () => layer.bus.subscribed)
  const registry = createCacheRegistry({ shared: layer.shared, coordinator: layer.coordinator, bus: layer.bus })
  registries.push(registry)
  const count = (key: string) => loads.set(key, (loads.get(key) ?? 0) + 1)
  const history = registry.define({
    name: 'watch_history',
    key: 'plex:watch_history',
    ttlMs: 60_000,
    keyOf: (n: number) => `limit=${n}`,
    load: async (n) => {
      count(`history:${n}`)
      await sleep(50)
      return { n }
    },
  })
  const stats = registry.define({ name: 'plex_stats', key: 'plex:stats', ttlMs: 60_000, load: () => count('stats') })
  return { layer, registry, history, stats }
}

const KEYS = Array.from({ length: 30 }, (_, i) => i)

describe('Redis Cluster (three private masters)', () => {
  it('reads and writes keys spread over every master; a second instance reads them from the cluster', async () => {
    const loads = new Map<string, number>()
    const a = await instance('c1:', loads)
    const b = await instance('c1:', loads)
    await Promise.all(KEYS.map((n) => a.history.read(n)))
    const perNode = await keysPerNode('c1:plex:')
    expect(
      perNode.every((keys) => keys.length > 0),
      `keys per node: ${perNode.map((k) => k.length).join(', ')}`,
    ).toBe(true)
    expect(perNode.flat()).toHaveLength(30)

    const fromB = await Promise.all(KEYS.map((n) => b.history.read(n)))
    expect(fromB.every((read) => read.outcome === 'hit')).toBe(true)
    expect(b.history.counters.sharedHits).toBe(30)
    expect(loads.size).toBe(30)
  })

  it('one upstream call per key across instances, whatever slot the lock key lands in', async () => {
    const loads = new Map<string, number>()
    const all = await Promise.all([instance('c2:', loads), instance('c2:', loads), instance('c2:', loads)])
    await Promise.all(all.flatMap(({ history }) => KEYS.map((n) => history.read(n))))
    expect(
      [...loads.values()].every((n) => n === 1),
      JSON.stringify(Object.fromEntries(loads)),
    ).toBe(true)
    expect(loads.size).toBe(30)
  })

  it('clearAll deletes the keys on every master and empties the other instance', async () => {
    const loads = new Map<string, number>()
    const a = await instance('c3:', loads)
    const b = await instance('c3:', loads)
    await Promise.all([...KEYS.map((n) => b.history.read(n)), b.stats.read()])
    expect((await keysPerNode('c3:plex:')).flat()).toHaveLength(31)

    expect(await a.registry.clearAll()).toEqual({ cleared: ['watch_history', 'plex_stats'], sharedCleared: true })
    expect((await keysPerNode('c3:plex:', true)).flat()).toEqual([])
    await eventually(
      "b's memory is empty",
      () => b.stats.peek() === undefined && KEYS.every((n) => b.history.peek(n) === undefined),
      1_000,
    )
  })

  it('invalidate deletes one key wherever its slot is and drops it on the other instance', async () => {
    const loads = new Map<string, number>()
    const a = await instance('c4:', loads)
    const b = await instance('c4:', loads)
    await Promise.all(KEYS.map((n) => b.history.read(n)))
    await a.registry.invalidate('watch_history', 17)
    await eventually('b dropped key 17', () => b.history.peek(17) === undefined, 1_000)
    expect(b.history.peek(16)).toBeDefined()
    const remaining = (await keysPerNode('c4:plex:')).flat()
    expect(remaining).toHaveLength(29)
    expect(remaining).not.toContain('c4:plex:watch_history:limit=17')
  })

  it('sums the counters of every instance for the cluster stats', async () => {
    const loads = new Map<string, number>()
    const a = await instance('c5:', loads)
    const b = await instance('c5:', loads)
    a.layer.publishStats(() => a.registry.stats())
    b.layer.publishStats(() => b.registry.stats())
    await a.stats.read()
    await b.stats.read()
    await b.stats.read()
    // Each instance publishes every 200 ms here: wait for the rounds after the reads.
    await eventually(
      'both instances published after their reads',
      async () => {
        const totals = await a.layer.clusterStats()
        const stats = totals?.caches.find((c) => c.name === 'plex_stats')
        return totals?.instances.length === 2 && stats?.hits === 2 && stats.misses === 1
      },
      3_000,
    )
    const totals = (await b.layer.clusterStats())!
    expect([...totals.instances].sort()).toEqual([a.layer.instanceId, b.layer.instanceId].sort())
    expect(totals.caches.find((c) => c.name === 'plex_stats')).toMatchObject({
      misses: 1,
      hits: 2,
      loads: 1,
      sharedHits: 1,
    })
    await eventually(
      'the snapshot (what cache/stats shows) has both instances',
      () => a.layer.latestClusterStats()?.instances.length === 2,
      3_000,
    )
  })
})
