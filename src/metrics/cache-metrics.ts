import { Histogram, type Registry } from 'prom-client'
import { readOutcomes, type AnyCache } from '../cache/index.js'
import { registerSnapshot, type Sample } from './snapshot-metric.js'

/** Seconds; loads run from a millisecond (SQLite) to the loader timeout (30 s). */
const LOAD_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

type Counters = AnyCache['counters']

/**
 * The `cache_*` metrics, one `cache` label (the declared name: never a key or a user). Counts are
 * read from each cache's own counters at scrape time; only the load histogram is fed as loads end.
 * `result` splits the reads without overlap (hit + miss + stale + coalesced = every read).
 */
export function registerCacheMetrics(
  registry: Registry,
  caches: () => readonly AnyCache[],
): (cache: string, ms: number, ok: boolean) => void {
  const perCache =
    (read: (c: Counters, cache: AnyCache) => Array<[Record<string, string>, number]>) => (): Sample[] => {
      const samples: Sample[] = []
      for (const cache of caches()) {
        for (const [labels, value] of read(cache.counters, cache))
          samples.push({ labels: { cache: cache.name, ...labels }, value })
      }
      return samples
    }
  const one = (value: (c: Counters, cache: AnyCache) => number | null) =>
    perCache((c, cache) => {
      const v = value(c, cache)
      return v === null ? [] : [[{}, v]]
    })

  registerSnapshot(registry, {
    name: 'cache_requests_total',
    help: "Reads of a cache by result: hit (fresh in memory or shared layer), miss (waited on its own load), stale (answered with an expired value), coalesced (waited on another read's load).",
    type: 'counter',
    read: perCache((c) => {
      const reads = readOutcomes(c)
      return [
        [{ result: 'hit' }, reads.hit],
        [{ result: 'miss' }, reads.miss],
        [{ result: 'stale' }, reads.stale],
        [{ result: 'coalesced' }, reads.coalesced],
      ]
    }),
  })
  registerSnapshot(registry, {
    name: 'cache_loads_total',
    help: 'Loader calls by result (a failure: threw, timed out, or returned a value without JSON).',
    type: 'counter',
    read: perCache((c) => [
      [{ result: 'success' }, c.loads - c.loadErrors],
      [{ result: 'failure' }, c.loadErrors],
    ]),
  })
  registerSnapshot(registry, {
    name: 'cache_refreshes_total',
    help: 'Loads started without a waiting reader, by reason: ahead (refresh-ahead of a value in demand), push (the upstream announced a change), warm (a forced reload, or the first load of the warm start).',
    type: 'counter',
    read: perCache((c) => [
      [{ reason: 'ahead' }, c.refreshes - c.pushRefreshes - c.warmRefreshes],
      [{ reason: 'push' }, c.pushRefreshes],
      [{ reason: 'warm' }, c.warmRefreshes],
    ]),
  })
  registerSnapshot(registry, {
    name: 'cache_upstream_calls_saved_total',
    help: "Reads answered without a loader call of their own (a hit, a shared-layer value, a wait on another read's load, or a stale value).",
    type: 'counter',
    read: one((c) => readOutcomes(c).upstreamCallsSaved),
  })
  registerSnapshot(registry, {
    name: 'cache_shared_hits_total',
    help: 'Values taken from the shared layer (Redis) instead of the loader.',
    type: 'counter',
    read: one((c) => c.sharedHits),
  })
  registerSnapshot(registry, {
    name: 'cache_evictions_total',
    help: 'Entries pushed out of memory by the byte budget (CACHE_MAX_BYTES).',
    type: 'counter',
    read: one((c) => c.evictions),
  })
  registerSnapshot(registry, {
    name: 'cache_entries',
    help: 'Entries held in memory (fresh or kept for stale serving).',
    type: 'gauge',
    read: one((c) => c.entries),
  })
  registerSnapshot(registry, {
    name: 'cache_bytes',
    help: 'Bytes held in memory (UTF-8 JSON).',
    type: 'gauge',
    read: one((c) => c.bytes),
  })
  registerSnapshot(registry, {
    name: 'cache_ttl_seconds',
    help: 'The TTL of a cache.',
    type: 'gauge',
    read: one((_c, cache) => cache.ttlMs / 1000),
  })
  registerSnapshot(registry, {
    name: 'cache_age_seconds',
    help: 'Age of the youngest value a cache holds; absent while it holds none.',
    type: 'gauge',
    read: one((_c, cache) => {
      const ageMs = cache.youngestAgeMs()
      return ageMs === null ? null : ageMs / 1000
    }),
  })

  const loadDuration = new Histogram({
    name: 'cache_load_duration_seconds',
    help: 'Duration of loader calls (successful or not).',
    labelNames: ['cache'],
    buckets: LOAD_BUCKETS,
    registers: [registry],
  })
  return (cache, ms) => loadDuration.observe({ cache }, ms / 1000)
}
