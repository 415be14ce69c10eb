import type { Registry } from 'prom-client'
import type { AnyCache, ScopeStats } from '../cache/index.js'
import { registerSnapshot } from './snapshot-metric.js'

/**
 * The viewers' scopes, aggregated: how many, how much they hold (per cache, and the fullest one
 * against CACHE_MAX_BYTES_PER_SCOPE), what their quota pushed out. Never a viewer's name, id or
 * scope hash in a label: a scope's figures are in `cache/stats` by hash, not here.
 */
export function registerScopeMetrics(
  registry: Registry,
  scopes: () => ScopeStats | undefined,
  caches: () => readonly AnyCache[],
): void {
  const total = (value: (s: ScopeStats) => number) => () => {
    const stats = scopes()
    return stats === undefined ? [] : [{ labels: {}, value: value(stats) }]
  }
  const perCache = (value: (held: { entries: number; bytes: number }) => number) => () =>
    caches()
      .filter((cache) => cache.scopedReads !== undefined)
      .map((cache) => ({ labels: { cache: cache.name }, value: value(cache.scopedHeld()) }))

  registerSnapshot(registry, {
    name: 'cache_scopes',
    help: "Viewers' scopes held on this instance (one per signed-in viewer whose entries are in memory).",
    type: 'gauge',
    read: total((s) => s.scopes),
  })
  registerSnapshot(registry, {
    name: 'cache_scope_max_bytes',
    help: 'What one scope may hold in memory, every cache together (CACHE_MAX_BYTES_PER_SCOPE).',
    type: 'gauge',
    read: total((s) => s.maxBytesPerScope),
  })
  registerSnapshot(registry, {
    name: 'cache_scope_largest_bytes',
    help: 'Bytes held by the fullest scope: how near any one viewer is to the quota.',
    type: 'gauge',
    read: total((s) => s.largestBytes),
  })
  registerSnapshot(registry, {
    name: 'cache_scope_evictions_total',
    help: "Entries scopes pushed out of memory to stay within their quota (only a scope's own entries).",
    type: 'counter',
    read: total((s) => s.evictions),
  })
  registerSnapshot(registry, {
    name: 'cache_scope_views_derived_total',
    help: "Viewers' views derived from a value loaded once for everybody (no Plex call of their own).",
    type: 'counter',
    read: total((s) => s.derivations),
  })
  registerSnapshot(registry, {
    name: 'cache_scoped_entries',
    help: "Of cache_entries, those held for viewers' scopes (all viewers together).",
    type: 'gauge',
    read: perCache((held) => held.entries),
  })
  registerSnapshot(registry, {
    name: 'cache_scoped_bytes',
    help: "Of cache_bytes, those held for viewers' scopes (all viewers together).",
    type: 'gauge',
    read: perCache((held) => held.bytes),
  })
}
