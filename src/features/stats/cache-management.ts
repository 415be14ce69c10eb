import type { BlobDiskStats } from '../../cache/blob/index.js'
import type { CacheRegistry, CacheStats, Clock } from '../../cache/index.js'
import { memoryOnlyRedisStatus, type RedisStatus } from '../../cache/redis/status.js'
import type { Config } from '../../config.js'
import { dashboardStatsCache } from '../caches/dashboard-stats.js'
import { CACHES } from '../caches/index.js'
import { Throttle } from '../throttle.js'
import type { ViewerAccounts } from '../viewers/accounts.js'

/** What `cache/stats` shows of the background-stats job. */
export interface BackgroundStatsJobInfo {
  readonly enabled: boolean
  /** Epoch ms of the last computed snapshot. */
  readonly lastUpdate: number | null
  readonly intervalMs: number
}

export interface CacheReportEntry {
  name: string
  hits: number
  misses: number
  total_requests: number
  /** `"80.0%"`, as Komandorr showed it. */
  hit_rate: string
  ttl_seconds: number
  cached: boolean
  cache_age_seconds: number | null
  // Ours (the counters of src/cache/README.md):
  declared: boolean
  key: string
  stale_serves: number
  coalesced: number
  shared_hits: number
  refreshes: number
  loads: number
  errors: number
  evictions: number
  oversized: number
  entries: number
  bytes: number
  load_p50_ms: number | null
  load_p95_ms: number | null
  load_p99_ms: number | null
  load_samples: number
  last_fetched: string | null
  last_error: string | null
  max_stale_seconds: number
  refresh_ahead: boolean
  shared: boolean
  // plex_images only (its disk tier):
  disk_enabled?: boolean
  disk_disabled_reason?: string | null
  disk_entries?: number
  disk_bytes?: number
  disk_hits?: number
  // background_stats only:
  enabled?: boolean
  last_update?: string | null
  update_interval?: number
}

export interface CacheStatsReport {
  caches: CacheReportEntry[]
  redis: RedisStatus
  /** The Redis keys the caches write (a keyed cache as `<key>:*`), with REDIS_KEY_PREFIX. */
  redis_keys_expected: string[]
  /** Viewers' scoped entries in this instance's memory: totals, and per scope (by hash, never by name). */
  scopes: ScopesReport
  timestamp: string
}

export interface ScopesReport {
  count: number
  max_bytes_per_scope: number
  entries: number
  bytes: number
  evictions: number
  /** Views derived from unscoped values (each one loaded once for everybody). */
  derivations: number
  per_scope: Array<{ scope: string; entries: number; bytes: number; evictions: number }>
}

export interface ClearAnswer {
  success: true
  message: string
  redis_cleared: boolean
  cleared: string[]
}

export interface WarmAnswer {
  success: boolean
  message: string
  warmed: string[]
  failed: Array<{ name: string; detail: string }>
}

export interface CacheManagementOptions {
  readonly registry: CacheRegistry
  readonly config: Config
  readonly backgroundStats: BackgroundStatsJobInfo
  /** For `timestamp` and `last_fetched`. */
  readonly clock: Clock
  readonly redisStatus?: () => RedisStatus
  readonly viewers: Pick<ViewerAccounts, 'clearCache'>
  /** A warm starts at most once per this (one warm costs every cache's Plex requests). Default 10 s. */
  readonly warmIntervalMs?: number
}

/** `cache/stats`, `cache/clear` and `cache/warm`: everything goes through the registry. */
export class CacheManagement {
  private warming: Promise<WarmAnswer> | undefined
  private readonly redisStatus: () => RedisStatus
  private readonly warmThrottle: Throttle

  constructor(private readonly options: CacheManagementOptions) {
    this.redisStatus = options.redisStatus ?? memoryOnlyRedisStatus
    this.warmThrottle = new Throttle(options.clock, 1, options.warmIntervalMs ?? 10_000)
  }

  report(): CacheStatsReport {
    const { registry, config, clock } = this.options
    const stats = new Map(registry.stats().map((s) => [s.name, s]))
    const catalogued = new Set(CACHES.map((spec) => spec.name))
    const names = [...catalogued, ...[...stats.keys()].filter((name) => !catalogued.has(name))]
    const caches = names.map((name) => {
      const entry = reportEntry(
        name,
        stats.get(name),
        config.cache.ttlMs[name],
        config.cache.maxStaleMs,
        config.redis.keyPrefix,
      )
      return name === dashboardStatsCache.name ? { ...entry, ...this.backgroundStatsInfo() } : entry
    })
    const prefix = config.redis.keyPrefix
    return {
      caches,
      redis: this.redisStatus(),
      redis_keys_expected: registry
        .list()
        .map((cache) => `${prefix}${cache.key}${cache.keyed || cache.scopedReads === 'own' ? ':*' : ''}`),
      scopes: this.scopesReport(),
      timestamp: new Date(clock.wallNow()).toISOString(),
    }
  }

  /** Drops every value of every cache, here, in Redis and on every instance; never waits on Plex. */
  async clear(): Promise<ClearAnswer> {
    const { cleared, sharedCleared } = await this.options.registry.clearAll()
    return {
      success: true,
      message: `Cleared ${cleared.length} caches${sharedCleared ? ' (memory and Redis)' : ''}`,
      redis_cleared: sharedCleared,
      cleared: [...cleared],
    }
  }

  /** Drops one viewer's cached entries, here, in Redis and on every instance; undefined for an unknown viewer. */
  async clearViewer(username: string): Promise<ClearAnswer | undefined> {
    const sharedCleared = await this.options.viewers.clearCache(username)
    if (sharedCleared === undefined) return undefined
    const cleared = this.options.registry
      .list()
      .filter((cache) => cache.scopedReads !== undefined)
      .map((cache) => cache.name)
    return {
      success: true,
      message: `Cleared the cached entries of viewer "${username}" in ${cleared.length} caches`,
      redis_cleared: sharedCleared,
      cleared,
    }
  }

  private scopesReport(): ScopesReport {
    const s = this.options.registry.scopeStats()
    return {
      count: s.scopes,
      max_bytes_per_scope: s.maxBytesPerScope,
      entries: s.entries,
      bytes: s.bytes,
      evictions: s.evictions,
      derivations: s.derivations,
      per_scope: s.perScope.map((scope) => ({ ...scope })),
    }
  }

  /**
   * Reloads every cache now, old values kept where a reload fails; a warm asked for meanwhile
   * joins it. A new warm within the interval of the last one's start throws a ThrottledError.
   */
  warm(): Promise<WarmAnswer> {
    if (this.warming) return this.warming
    this.warmThrottle.take(
      `The caches were warmed less than ${this.warmThrottle.windowMs / 1000} s ago: they hold fresh data already`,
    )
    this.warming = this.reloadAll().finally(() => {
      this.warming = undefined
    })
    return this.warming
  }

  private async reloadAll(): Promise<WarmAnswer> {
    const results = await this.options.registry.reloadAll()
    const warmed = results.filter((r) => r.ok).map((r) => r.name)
    const failed = results.filter((r) => !r.ok).map((r) => ({ name: r.name, detail: r.error ?? 'the reload failed' }))
    return {
      success: failed.length === 0,
      message:
        failed.length === 0
          ? `Reloaded ${warmed.length} caches`
          : `Reloaded ${warmed.length} of ${results.length} caches; ${failed.length} failed and keep their last value`,
      warmed,
      failed,
    }
  }

  private backgroundStatsInfo(): Pick<CacheReportEntry, 'enabled' | 'last_update' | 'update_interval'> {
    const { enabled, lastUpdate, intervalMs } = this.options.backgroundStats
    return {
      enabled,
      last_update: lastUpdate === null ? null : new Date(lastUpdate).toISOString(),
      update_interval: intervalMs / 1000,
    }
  }
}

function reportEntry(
  name: string,
  s: CacheStats | undefined,
  configuredTtl: number | undefined,
  maxStaleMs: number,
  prefix: string,
): CacheReportEntry {
  const requests = s?.requests ?? 0
  const hitRate = requests === 0 ? 0 : (s!.hits / requests) * 100
  const ageMs = s?.ageMs ?? null
  return {
    name,
    hits: s?.hits ?? 0,
    misses: s?.misses ?? 0,
    total_requests: requests,
    hit_rate: `${hitRate.toFixed(1)}%`,
    ttl_seconds: (s?.ttlMs ?? configuredTtl ?? 0) / 1000,
    cached: ageMs !== null,
    cache_age_seconds: ageMs === null ? null : Math.round(ageMs / 100) / 10,
    declared: s !== undefined,
    key: s === undefined ? '' : prefix + s.key,
    stale_serves: s?.staleServes ?? 0,
    coalesced: s?.coalesced ?? 0,
    shared_hits: s?.sharedHits ?? 0,
    refreshes: s?.refreshes ?? 0,
    loads: s?.loads ?? 0,
    errors: s?.loadErrors ?? 0,
    evictions: s?.evictions ?? 0,
    oversized: s?.oversized ?? 0,
    entries: s?.entries ?? 0,
    bytes: s?.bytes ?? 0,
    load_p50_ms: s?.loadMs?.p50 ?? null,
    load_p95_ms: s?.loadMs?.p95 ?? null,
    load_p99_ms: s?.loadMs?.p99 ?? null,
    load_samples: s?.loadMs?.samples ?? 0,
    last_fetched: s?.lastFetchedAt == null ? null : new Date(s.lastFetchedAt).toISOString(),
    last_error: s?.lastError ?? null,
    max_stale_seconds: (s?.maxStaleMs ?? maxStaleMs) / 1000,
    refresh_ahead: s?.refreshAhead ?? false,
    shared: s?.shared ?? false,
    ...(s !== undefined && 'disk' in s ? diskFields(s.disk as BlobDiskStats) : {}),
  }
}

function diskFields(disk: BlobDiskStats): Partial<CacheReportEntry> {
  return {
    disk_enabled: disk.enabled,
    disk_disabled_reason: disk.disabledReason,
    disk_entries: disk.entries,
    disk_bytes: disk.bytes,
    disk_hits: disk.hits,
  }
}
