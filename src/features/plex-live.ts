import type { Cache, CacheRegistry, Clock } from '../cache/index.js'
import type { Config } from '../config.js'
import type { SettingsRepo } from '../db/index.js'
import type { Logger, LogSecrets } from '../logger.js'
import { activitiesPatches, defineActivitiesCache, type ActivitiesValue } from './activities.js'
import { ImageProxy } from './image-proxy.js'
import { defineLibrariesCache, type LibrariesValue } from './libraries.js'
import { defineLiveStatsCache, type LiveStatsValue } from './live-stats.js'
import { clearCachesOnPlexChange, PlexConfigService } from './plex-config.js'
import type { PlexConnection } from './plex-connection.js'
import { liveCache, PushInvalidation } from './push-invalidation.js'
import { defineRecentMediaCache, type RecentMediaValue } from './recent-media.js'
import { defineSessionsCache, sessionsPatches, type SessionsValue } from './sessions.js'
import { defineUsersCountCache, type UsersCountValue } from './users-count.js'
import { WarmStart } from './warm-start.js'

export interface PlexLiveDeps {
  readonly config: Config
  readonly registry: CacheRegistry
  readonly plex: PlexConnection
  readonly settings: SettingsRepo
  /** Stamps saved settings (wall time) and times the push-invalidation debounce. */
  readonly clock: Clock
  readonly logger: Logger
  readonly logSecrets?: LogSecrets
}

/** The live Plex endpoints: their caches, the Plex settings, the image proxy and push invalidation. */
export interface PlexLive {
  readonly activities: Cache<ActivitiesValue>
  readonly sessions: Cache<SessionsValue>
  readonly liveStats: Cache<LiveStatsValue>
  readonly recentMedia: Cache<RecentMediaValue>
  readonly libraries: Cache<LibrariesValue>
  readonly usersCount: Cache<UsersCountValue>
  readonly plexConfig: PlexConfigService
  readonly images: ImageProxy
  /** A background job: start it with the others (it listens only while Plex is configured). */
  readonly push: PushInvalidation
  /** A background job: loads the caches above when it starts and after a Plex server change. */
  readonly warmStart: WarmStart
  /** Stops busting caches on config changes (the registry itself is closed by its owner). */
  close(): void
}

/** Declares the caches in `registry` and wires config-change invalidation; call once per runtime. */
export function createPlexLive(deps: PlexLiveDeps): PlexLive {
  const { config, registry, plex, logger } = deps
  const ttl = config.cache.ttlMs
  const serverName = config.plex.serverName
  const stopClearing = clearCachesOnPlexChange(plex, registry, logger)
  const activities = defineActivitiesCache(registry, plex, ttl.activities)
  const sessions = defineSessionsCache(registry, plex, ttl.sessions, {
    onPosterLookupFailed: (error) => logger.warn({ err: error }, 'show posters of the playing sessions could not be looked up'),
  })
  const liveStats = defineLiveStatsCache(registry, plex, ttl.liveStats, serverName)
  const recentMedia = defineRecentMediaCache(registry, plex, ttl.recentMedia)
  const libraries = defineLibrariesCache(registry, plex, ttl.libraries, serverName)
  const usersCount = defineUsersCountCache(registry, plex, ttl.usersCount)
  const plexCaches = [activities, sessions, liveStats, recentMedia, libraries, usersCount]
  return {
    activities,
    sessions,
    liveStats,
    recentMedia,
    libraries,
    usersCount,
    plexConfig: new PlexConfigService({ plex, settings: deps.settings, clock: deps.clock, defaultServerName: serverName, logSecrets: deps.logSecrets }),
    images: new ImageProxy({ plex, plexTvUrl: config.plex.plexTvUrl }),
    push: new PushInvalidation({
      plex,
      registry,
      live: [liveCache(sessions, sessionsPatches), liveCache(activities, activitiesPatches)],
      clock: deps.clock,
      logger: logger.child({ job: 'plex-push-invalidation' }),
    }),
    warmStart: new WarmStart({ plex, caches: plexCaches, clock: deps.clock, logger: logger.child({ job: 'cache-warm-start' }) }),
    close: stopClearing,
  }
}
