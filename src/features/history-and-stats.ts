import type { Cache, CacheRegistry, Clock } from '../cache/index.js'
import type { Config } from '../config.js'
import type { Repos } from '../db/index.js'
import type { Logger } from '../logger.js'
import type { TrafficLog } from '../traffic/traffic-log.js'
import { CacheManagement, type RedisStatus } from './cache-management.js'
import { DashboardStats } from './dashboard-stats.js'
import type { LiveStatsValue } from './live-stats.js'
import type { PlexConnection } from './plex-connection.js'
import { PlexStats } from './plex-stats.js'
import { defineWatchHistoryCache, type WatchHistoryCache } from './watch-history.js'
import { WatchHistorySync } from './watch-history-sync.js'

export interface HistoryAndStatsDeps {
  readonly config: Config
  readonly registry: CacheRegistry
  readonly plex: PlexConnection
  /** `plex_stats_live`: the PMS totals `plex_stats` shows too, fetched once for both. */
  readonly liveStats: Cache<LiveStatsValue>
  /** Services as the monitor last stored them, the peak, the synced history. */
  readonly repos: Repos
  readonly traffic: TrafficLog
  /** Times the sync and stats jobs; its wall time stamps stored times (the peak's `last_updated`). */
  readonly clock: Clock
  readonly logger: Logger
  /** The `redis` block of `cache/stats`; the Redis layer passes its own. */
  readonly redisStatus?: () => RedisStatus
}

/** Watch history (cache and sync), the Plex peak stats, the dashboard snapshot and cache management. */
export interface HistoryAndStats {
  readonly watchHistory: WatchHistoryCache
  /** A background job: syncs every WATCH_HISTORY_SYNC_INTERVAL. */
  readonly watchHistorySync: WatchHistorySync
  readonly plexStats: PlexStats
  /** A background job: recomputes `background_stats` every STATS_REFRESH_INTERVAL. */
  readonly dashboard: DashboardStats
  readonly cacheManagement: CacheManagement
}

/** Declares `watch_history`, `plex_stats` and `background_stats` in `registry`; call once per runtime. */
export function createHistoryAndStats(deps: HistoryAndStatsDeps): HistoryAndStats {
  const { config, registry, plex, repos, clock, logger } = deps
  const dashboard = new DashboardStats({
    registry,
    services: repos.services,
    plexStats: repos.plexStats,
    traffic: deps.traffic,
    plex,
    intervalMs: config.jobs.statsRefreshMs,
    idleWindowMs: config.cache.warmIdleMs,
    clock,
    logger: logger.child({ job: 'dashboard-stats' }),
  })
  const watchHistory = defineWatchHistoryCache(registry, repos.watchHistory, plex, config.cache.ttlMs.watchHistory)
  const watchHistorySync = new WatchHistorySync({
    plex,
    repo: repos.watchHistory,
    settings: repos.settings,
    onRowsAdded: async () => {
      await Promise.all([watchHistory.clear(), dashboard.cache.invalidate()])
    },
    intervalMs: config.jobs.watchHistorySyncMs,
    clock,
    logger: logger.child({ job: 'watch-history-sync' }),
  })
  const plexStats = new PlexStats({
    registry,
    repo: repos.plexStats,
    plex,
    liveStats: deps.liveStats,
    ttlMs: config.cache.ttlMs.stats,
    defaultServerName: config.plex.serverName,
    clock,
    onPeakChanged: () => dashboard.cache.invalidate().then(() => undefined),
  })
  const cacheManagement = new CacheManagement({ registry, config, backgroundStats: dashboard, clock, redisStatus: deps.redisStatus })
  return { watchHistory, watchHistorySync, plexStats, dashboard, cacheManagement }
}
