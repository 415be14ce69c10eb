import {
  createCacheRegistry,
  type CacheLogger,
  type CacheRegistry,
  type Clock,
  type FlightCoordinator,
  type InvalidationBus,
  type SharedLayer,
} from '../cache/index.js'
import type { Config } from '../config.js'

export interface CachesOptions {
  readonly clock?: Clock
  readonly logger?: CacheLogger
  /** The Redis layer, bus and cluster single flight, once a Redis engineer wires them. */
  readonly shared?: SharedLayer
  readonly bus?: InvalidationBus
  readonly coordinator?: FlightCoordinator
}

/**
 * The registry every cache of the service is declared in, with the policy defaults of SPEC §1:
 * CACHE_MAX_BYTES, CACHE_MAX_STALE, CACHE_WARM_THRESHOLD, CACHE_WARM_IDLE and CACHE_SOFT_TIMEOUT_MS.
 */
export function createCaches(config: Config, options: CachesOptions = {}): CacheRegistry {
  return createCacheRegistry({
    clock: options.clock,
    maxBytes: config.cache.maxBytes,
    logger: options.logger,
    shared: options.shared,
    bus: options.bus,
    coordinator: options.coordinator,
    defaults: {
      maxStaleMs: config.cache.maxStaleMs,
      refreshAheadAt: config.cache.warmThreshold,
      idleWindowMs: config.cache.warmIdleMs,
      softTimeoutMs: config.cache.softTimeoutMs,
    },
  })
}

/** The caches of SPEC §1, in the order `GET /api/plex/cache/stats` lists them. */
export const SPEC_CACHE_NAMES = [
  'plex_activities',
  'plex_sessions',
  'watch_history',
  'plex_stats',
  'plex_stats_live',
  'plex_recent_media',
  'plex_libraries',
  'plex_users_count',
  'background_stats',
] as const

export type SpecCacheName = (typeof SPEC_CACHE_NAMES)[number]
