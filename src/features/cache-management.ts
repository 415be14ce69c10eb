import type { BlobDiskStats } from '../cache/blob/index.js'
import type { CacheRegistry, CacheStats, Clock } from '../cache/index.js'
import type { ClusterStats, RedisLayer } from '../cache/redis/index.js'
import type { Config } from '../config.js'
import { SPEC_CACHE_NAMES } from './caches.js'

/** The `redis` block of `GET /api/plex/cache/stats`. */
export interface RedisStatus {
  type: 'redis' | 'memory'
  enabled: boolean
  connected: boolean
  /** e.g. `disabled`, `connected`, `circuit-open`. */
  state: string
  last_error: string | null
  // With Redis (ours):
  mode?: string
  subscribed?: boolean
  instance_id?: string
  leader?: boolean
  /** Every live instance's counters summed, as of their last publish (every few seconds). */
  cluster?: ClusterReport | null
}

export interface ClusterReport {
  instances: number
  instance_ids: string[]
  caches: Array<{
    name: string
    hits: number
    misses: number
    coalesced: number
    total_requests: number
    hit_rate: string
    stale_serves: number
    shared_hits: number
    refreshes: number
    loads: number
    errors: number
    evictions: number
    entries: number
    bytes: number
  }>
}

/** The redis block while the service runs without Redis; the Redis layer replaces this function. */
export function memoryOnlyRedisStatus(): RedisStatus {
  return { type: 'memory', enabled: false, connected: false, state: 'disabled', last_error: null }
}

/** The redis block with the Redis layer: breaker state (`closed` = in use, `open`, `half-open`) and cluster totals. */
export function redisLayerStatus(layer: Pick<RedisLayer, 'status' | 'latestClusterStats'>): RedisStatus {
  const status = layer.status()
  const cluster = layer.latestClusterStats()
  return {
    type: 'redis',
    enabled: true,
    connected: status.connected,
    state: status.state,
    last_error: status.lastError,
    mode: status.mode,
    subscribed: status.subscribed,
    instance_id: status.instanceId,
    leader: status.leader,
    cluster: cluster === undefined ? null : clusterReport(cluster),
  }
}

/** The `redis` field of `/api/health` with the Redis layer: `connected` while Redis is in use, else `unavailable`. */
export function redisHealth(layer: Pick<RedisLayer, 'status'>): Readonly<Record<string, unknown>> {
  const status = layer.status()
  return {
    status: status.connected && status.state === 'closed' ? 'connected' : 'unavailable',
    mode: status.mode,
    state: status.state,
    subscribed: status.subscribed,
    leader: status.leader,
    last_error: status.lastError,
  }
}

function clusterReport(cluster: ClusterStats): ClusterReport {
  return {
    instances: cluster.instances.length,
    instance_ids: [...cluster.instances],
    caches: cluster.caches.map((c) => {
      const requests = c.hits + c.misses + c.coalesced
      return {
        name: c.name,
        hits: c.hits,
        misses: c.misses,
        coalesced: c.coalesced,
        total_requests: requests,
        hit_rate: `${(requests === 0 ? 0 : (c.hits / requests) * 100).toFixed(1)}%`,
        stale_serves: c.staleServes,
        shared_hits: c.sharedHits,
        refreshes: c.refreshes,
        loads: c.loads,
        errors: c.loadErrors,
        evictions: c.evictions,
        entries: c.entries,
        bytes: c.bytes,
      }
    }),
  }
}

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
  // Ours (SPEC §1 counters):
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
  timestamp: string
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
}

/** `cache/stats`, `cache/clear` and `cache/warm`: everything goes through the registry. */
export class CacheManagement {
  private warming: Promise<WarmAnswer> | undefined
  private readonly redisStatus: () => RedisStatus

  constructor(private readonly options: CacheManagementOptions) {
    this.redisStatus = options.redisStatus ?? memoryOnlyRedisStatus
  }

  report(): CacheStatsReport {
    const { registry, config, clock } = this.options
    const stats = new Map(registry.stats().map((s) => [s.name, s]))
    const names = [...SPEC_CACHE_NAMES, ...[...stats.keys()].filter((name) => !(SPEC_CACHE_NAMES as readonly string[]).includes(name))]
    const caches = names.map((name) => {
      const entry = reportEntry(name, stats.get(name), specTtlMs(config, name), config.cache.maxStaleMs, config.redis.keyPrefix)
      return name === 'background_stats' ? { ...entry, ...this.backgroundStatsInfo() } : entry
    })
    const prefix = config.redis.keyPrefix
    return {
      caches,
      redis: this.redisStatus(),
      redis_keys_expected: registry.list().map((cache) => `${prefix}${cache.key}${cache.keyed ? ':*' : ''}`),
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

  /** Reloads every cache now, old values kept where a reload fails; a warm asked for meanwhile joins it. */
  warm(): Promise<WarmAnswer> {
    this.warming ??= this.reloadAll().finally(() => {
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

function reportEntry(name: string, s: CacheStats | undefined, specTtl: number | undefined, maxStaleMs: number, prefix: string): CacheReportEntry {
  const requests = s?.requests ?? 0
  const hitRate = requests === 0 ? 0 : (s!.hits / requests) * 100
  const ageMs = s?.ageMs ?? null
  return {
    name,
    hits: s?.hits ?? 0,
    misses: s?.misses ?? 0,
    total_requests: requests,
    hit_rate: `${hitRate.toFixed(1)}%`,
    ttl_seconds: (s?.ttlMs ?? specTtl ?? 0) / 1000,
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

/** A cache's TTL as configured, for a cache of SPEC §1 that is not declared (yet). */
function specTtlMs(config: Config, name: string): number | undefined {
  const ttl = config.cache.ttlMs
  const byName: Record<string, number> = {
    plex_activities: ttl.activities,
    plex_sessions: ttl.sessions,
    watch_history: ttl.watchHistory,
    plex_stats: ttl.stats,
    plex_stats_live: ttl.liveStats,
    plex_recent_media: ttl.recentMedia,
    plex_libraries: ttl.libraries,
    plex_users_count: ttl.usersCount,
    background_stats: config.jobs.statsRefreshMs,
  }
  return byName[name]
}
