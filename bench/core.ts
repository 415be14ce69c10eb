// The cache core's hot path against its baselines, and a 1000-reader stampede.
// `npm run bench -- core [--json]`: a table; with --json also one JSON object on the last line.
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { LRUCache } from 'lru-cache'
import { PerformanceObserver } from 'node:perf_hooks'
import {
  createCacheRegistry,
  createSystemClock,
  percentiles,
  type Cache,
  type CacheRegistry,
  type Clock,
} from '../src/cache/index.js'
import type { EvictionPolicy } from '../src/cache/eviction/index.js'

const ROUNDS = 7
const SYNC_OPS = 2_000_000
const READ_OPS = 200_000
const BENTO_OPS = 20_000
const STAMPEDE_READERS = 1_000
const STAMPEDE_LOADER_MS = 20
const OTHER_KEYS = 1_000
const KEY = 'plex:sessions'

const value = { sessions: Array.from({ length: 5 }, (_, i) => ({ session_id: `s${i}`, progress: i * 10 })), total: 5 }

/** Defeats dead-code elimination: every measured loop feeds it (through a local int, so that no double is boxed). */
let sink = 0

function nsPerOp(ops: number, run: (ops: number) => void): number {
  const start = process.hrtime.bigint()
  run(ops)
  return Number(process.hrtime.bigint() - start) / ops
}

async function nsPerOpAsync(ops: number, run: (ops: number) => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint()
  await run(ops)
  return Number(process.hrtime.bigint() - start) / ops
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** A warm argument-less cache among OTHER_KEYS others, as in the service. */
async function sessionsCache(
  clock: Clock,
  eviction: EvictionPolicy = 'lru',
): Promise<{ registry: CacheRegistry; cache: Cache<typeof value> }> {
  const registry = createCacheRegistry({ clock, eviction })
  for (let i = 0; i < OTHER_KEYS; i++) {
    await registry.define({ name: `other_${i}`, key: `other:${i}`, ttlMs: 3_600_000, load: () => i }).read()
  }
  const cache = registry.define({ name: 'plex_sessions', key: KEY, ttlMs: 3_600_000, load: () => value })
  await cache.read()
  return { registry, cache }
}

async function hitPath(): Promise<Record<string, number>> {
  const map = new Map<string, { total: number }>()
  const lru = new LRUCache<string, { bytes: number; total: number }>({
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (entry) => entry.bytes,
    dispose: () => {},
  })
  for (let i = 0; i < OTHER_KEYS; i++) {
    map.set(`other:${i}`, { total: i })
    lru.set(`other:${i}`, { bytes: 100, total: i })
  }
  map.set(KEY, value)
  lru.set(KEY, { bytes: 100, total: value.total })

  const ours = await sessionsCache(createSystemClock(1))

  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxSize: '64mb' })) },
  })
  for (let i = 0; i < OTHER_KEYS; i++) await bento.getOrSet({ key: `other:${i}`, ttl: '1h', factory: () => i })
  await bento.getOrSet({ key: KEY, ttl: '1h', factory: () => value })

  const variants: Record<string, () => Promise<number>> = {
    map_ns: async () =>
      nsPerOp(SYNC_OPS, (ops) => {
        let acc = 0
        for (let i = 0; i < ops; i++) acc = (acc + map.get(KEY)!.total) | 0
        sink ^= acc
      }),
    lru_cache_ns: async () =>
      nsPerOp(SYNC_OPS, (ops) => {
        let acc = 0
        for (let i = 0; i < ops; i++) acc = (acc + lru.get(KEY)!.total) | 0
        sink ^= acc
      }),
    ours_ns: async () =>
      nsPerOp(SYNC_OPS, (ops) => {
        let acc = 0
        for (let i = 0; i < ops; i++) acc = (acc + ours.cache.peek()!.bytes) | 0
        sink ^= acc
      }),
    await_baseline_ns: async () =>
      nsPerOpAsync(READ_OPS, async (ops) => {
        let acc = 0
        for (let i = 0; i < ops; i++) acc = (acc + (await Promise.resolve(value)).total) | 0
        sink ^= acc
      }),
    ours_read_ns: async () =>
      nsPerOpAsync(READ_OPS, async (ops) => {
        let acc = 0
        for (let i = 0; i < ops; i++) acc = (acc + (await ours.cache.read()).entry.bytes) | 0
        sink ^= acc
      }),
    bentocache_ns: async () =>
      nsPerOpAsync(BENTO_OPS, async (ops) => {
        let acc = 0
        for (let i = 0; i < ops; i++)
          acc = (acc + (await bento.getOrSet({ key: KEY, ttl: '1h', factory: () => value })).total) | 0
        sink ^= acc
      }),
  }

  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]))
  for (let round = -1; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const ns = await run()
      if (round >= 0) samples[name]!.push(ns) // round -1 warms the JIT
    }
  }
  if (ours.cache.counters.misses !== 1) throw new Error('the benchmark measured misses, not hits')
  const peekGcEvents = await gcEventsDuring(() => {
    let acc = 0
    for (let i = 0; i < SYNC_OPS * 5; i++) acc = (acc + ours.cache.peek()!.bytes) | 0
    sink ^= acc
  })
  // Last, because a second clock class makes `peek`'s call to `now()` polymorphic from here on.
  const precise = await sessionsCache(createSystemClock(0))
  samples.ours_precise_clock_ns = []
  for (let round = -1; round < ROUNDS; round++) {
    const ns = nsPerOp(SYNC_OPS, (ops) => {
      let acc = 0
      for (let i = 0; i < ops; i++) acc = (acc + precise.cache.peek()!.bytes) | 0
      sink ^= acc
    })
    if (round >= 0) samples.ours_precise_clock_ns.push(ns)
  }
  // Last too: a second memory-layer class makes `peek`'s map lookup polymorphic as well.
  const tinyLfu = await sessionsCache(createSystemClock(1), 'w-tinylfu')
  samples.ours_w_tinylfu_ns = []
  for (let round = -1; round < ROUNDS; round++) {
    const ns = nsPerOp(SYNC_OPS, (ops) => {
      let acc = 0
      for (let i = 0; i < ops; i++) acc = (acc + tinyLfu.cache.peek()!.bytes) | 0
      sink ^= acc
    })
    if (round >= 0) samples.ours_w_tinylfu_ns.push(ns)
  }
  const tinyLfuGcEvents = await gcEventsDuring(() => {
    let acc = 0
    for (let i = 0; i < SYNC_OPS * 5; i++) acc = (acc + tinyLfu.cache.peek()!.bytes) | 0
    sink ^= acc
  })
  ours.registry.close()
  precise.registry.close()
  tinyLfu.registry.close()
  await bento.disconnect()
  return {
    ...Object.fromEntries(Object.entries(samples).map(([name, ns]) => [name, median(ns)])),
    peek_gc_events: peekGcEvents,
    w_tinylfu_peek_gc_events: tinyLfuGcEvents,
  }
}

/** Garbage collections while `run` runs: a hit path that allocates nothing causes none. */
async function gcEventsDuring(run: () => void): Promise<number> {
  let events = 0
  const observer = new PerformanceObserver((list) => {
    events += list.getEntries().length
  })
  observer.observe({ entryTypes: ['gc'] })
  await new Promise((resolve) => setTimeout(resolve, 50))
  events = 0
  run()
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  return events
}

interface StampedeRound {
  loaderMs: number
  waitP50Ms: number
  waitP99Ms: number
  waitMaxMs: number
  loaderCalls: number
}

async function stampedeRound(): Promise<StampedeRound> {
  const registry = createCacheRegistry({ clock: createSystemClock(0) })
  let loaderCalls = 0
  let loaderMs = 0
  const sessions = registry.define({
    name: 'plex_sessions',
    key: KEY,
    ttlMs: 10_000,
    load: async () => {
      loaderCalls++
      const start = performance.now()
      await new Promise((resolve) => setTimeout(resolve, STAMPEDE_LOADER_MS))
      loaderMs = performance.now() - start
      return value
    },
  })
  const waits = await Promise.all(
    Array.from({ length: STAMPEDE_READERS }, async () => {
      const start = performance.now()
      sink ^= (await sessions.read()).entry.bytes
      return performance.now() - start
    }),
  )
  registry.close()
  const waited = percentiles(waits)!
  return { loaderMs, waitP50Ms: waited.p50, waitP99Ms: waited.p99, waitMaxMs: Math.max(...waits), loaderCalls }
}

async function stampede(): Promise<StampedeRound> {
  const rounds: StampedeRound[] = []
  for (let round = -1; round < ROUNDS; round++) {
    const result = await stampedeRound()
    if (result.loaderCalls !== 1) throw new Error(`stampede made ${result.loaderCalls} loader calls`)
    if (round >= 0) rounds.push(result)
  }
  const pick = (field: keyof StampedeRound): number => median(rounds.map((round) => round[field]))
  return {
    loaderMs: pick('loaderMs'),
    waitP50Ms: pick('waitP50Ms'),
    waitP99Ms: pick('waitP99Ms'),
    waitMaxMs: pick('waitMaxMs'),
    loaderCalls: 1,
  }
}

export async function main(args: string[]): Promise<void> {
  const json = args.includes('--json')
  const hits = await hitPath()
  const storm = await stampede()
  const lru = hits.lru_cache_ns!
  const bento = hits.bentocache_ns!
  const ours = hits.ours_ns!

  const rows: Array<[string, number]> = [
    ['Map.get', hits.map_ns!],
    ['lru-cache get', lru],
    ['ours: peek (systemClock, 1 ms resolution)', ours],
    ['ours: peek (performance.now() per read)', hits.ours_precise_clock_ns!],
    ['ours: peek, CACHE_EVICTION=w-tinylfu', hits.ours_w_tinylfu_ns!],
    ['await of a resolved promise (baseline)', hits.await_baseline_ns!],
    ['ours: await read() on a hit', hits.ours_read_ns!],
    ['BentoCache getOrSet, L1 (memory) hit', bento],
  ]
  console.log(`cache core, hit path: median of ${ROUNDS} rounds (Node ${process.version})`)
  console.log('| path | ns/op | × lru-cache | BentoCache ÷ this |')
  console.log('|---|---:|---:|---:|')
  for (const [name, ns] of rows) {
    console.log(`| ${name} | ${ns.toFixed(1)} | ${(ns / lru).toFixed(2)} | ${(bento / ns).toFixed(1)} |`)
  }
  console.log(
    `garbage collections during ${SYNC_OPS * 5} warm peeks: ${hits.peek_gc_events} (lru), ${hits.w_tinylfu_peek_gc_events} (w-tinylfu)`,
  )
  console.log()
  console.log(
    `stampede: ${STAMPEDE_READERS} readers on a cold key, loader sleeps ${STAMPEDE_LOADER_MS} ms; median of ${ROUNDS} rounds`,
  )
  console.log('| loader calls | loader ms | waiter p50 ms | waiter p99 ms | waiter max ms |')
  console.log('|---:|---:|---:|---:|---:|')
  console.log(
    `| ${storm.loaderCalls} | ${storm.loaderMs.toFixed(2)} | ${storm.waitP50Ms.toFixed(2)} | ${storm.waitP99Ms.toFixed(2)} | ${storm.waitMaxMs.toFixed(2)} |`,
  )
  const verdict = {
    hit_le_150ns: ours <= 150,
    hit_le_3x_lru_cache: ours <= 3 * lru,
    hit_ge_20x_faster_than_bentocache: bento / ours >= 20,
  }
  console.log()
  console.log(
    `targets: ${Object.entries(verdict)
      .map(([name, ok]) => `${name} ${ok ? 'met' : 'MISSED'}`)
      .join(', ')}`,
  )
  if (sink === 42) console.log('') // keeps `sink` observable
  if (json) {
    console.log(
      JSON.stringify({
        ...Object.fromEntries(Object.entries(hits).map(([name, n]) => [name, Number(n.toFixed(1))])),
        ratio_ours_to_lru_cache: Number((ours / lru).toFixed(2)),
        speedup_vs_bentocache: Number((bento / ours).toFixed(1)),
        stampede_readers: STAMPEDE_READERS,
        stampede_loader_calls: storm.loaderCalls,
        stampede_loader_ms: Number(storm.loaderMs.toFixed(2)),
        stampede_wait_p50_ms: Number(storm.waitP50Ms.toFixed(2)),
        stampede_wait_p99_ms: Number(storm.waitP99Ms.toFixed(2)),
        ...verdict,
      }),
    )
  }
}
