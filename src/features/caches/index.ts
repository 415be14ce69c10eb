import {
  createCacheRegistry,
  type AnyCache,
  type Cache,
  type CacheDeclaration,
  type CacheLogger,
  type CacheRegistry,
  type Clock,
  type FlightCoordinator,
  type InvalidationBus,
  type SharedLayer,
} from '../../cache/index.js'
import type { EvictionPolicy } from '../../cache/eviction/index.js'
import { activitiesCache } from './activities.js'
import { dashboardStatsCache } from './dashboard-stats.js'
import type { AnyCacheSpec, CacheDeps, CacheSpec } from './declaration.js'
import { librariesCache } from './libraries.js'
import { liveStatsCache } from './live-stats.js'
import { plexStatsCache } from './plex-stats.js'
import { recentMediaCache } from './recent-media.js'
import { sessionsCache } from './sessions.js'
import { transcodeSessionsCache } from './transcode-sessions.js'
import { usersCountCache } from './users-count.js'
import { watchHistoryCache } from './watch-history.js'
import type { Viewer } from '../viewers/viewer.js'

/**
 * Every cache of the service, in the order `GET /api/plex/cache/stats` lists them. main.ts hands
 * them to loadConfig, which reads their TTL variables; push handling, config-change clearing,
 * stats, clear and warm go over this list: a new cache is one declaration file and one line here.
 */
export const CACHES: readonly AnyCacheSpec[] = [
  activitiesCache,
  sessionsCache,
  watchHistoryCache,
  plexStatsCache,
  liveStatsCache,
  recentMediaCache,
  librariesCache,
  usersCountCache,
  dashboardStatsCache,
  transcodeSessionsCache,
]

export interface CacheRegistrySettings {
  readonly maxBytes: number
  readonly maxBytesPerScope: number | null
  /** CACHE_EVICTION. */
  readonly eviction?: EvictionPolicy
  readonly maxStaleMs: number
  readonly warmThreshold: number
  readonly warmIdleMs: number
  readonly softTimeoutMs: number
}

export interface CachesOptions {
  readonly clock?: Clock
  readonly logger?: CacheLogger
  /** With Redis: the shared layer, the invalidation bus and cluster single flight. */
  readonly shared?: SharedLayer
  readonly bus?: InvalidationBus
  readonly coordinator?: FlightCoordinator
  /** Told of every loader call when it ends (the metrics' load histogram). */
  readonly onLoad?: (cache: string, ms: number, ok: boolean) => void
}

/**
 * The catalogue's caches on one registry (CACHE_MAX_BYTES, CACHE_MAX_STALE, CACHE_WARM_THRESHOLD,
 * CACHE_WARM_IDLE and CACHE_SOFT_TIMEOUT_MS as its defaults). Create it, build the deps that need `cache`, then `define`.
 */
export class ServiceCaches {
  readonly registry: CacheRegistry
  private readonly defined = new Map<string, AnyCache>()

  constructor(
    settings: CacheRegistrySettings,
    private readonly ttlMs: Readonly<Record<string, number>>,
    options: CachesOptions = {},
  ) {
    this.registry = createCacheRegistry({
      clock: options.clock,
      maxBytes: settings.maxBytes,
      maxBytesPerScope: settings.maxBytesPerScope ?? undefined,
      eviction: settings.eviction,
      logger: options.logger,
      shared: options.shared,
      bus: options.bus,
      coordinator: options.coordinator,
      onLoad: options.onLoad,
      defaults: {
        maxStaleMs: settings.maxStaleMs,
        refreshAheadAt: settings.warmThreshold,
        idleWindowMs: settings.warmIdleMs,
        softTimeoutMs: settings.softTimeoutMs,
      },
    })
  }

  /** The defined cache of `spec`; throws before `define` ran. */
  readonly cache = <V, A>(spec: CacheSpec<V, A>): Cache<V, A> => {
    const cache = this.defined.get(spec.name)
    if (cache === undefined) throw new Error(`cache "${spec.name}" is not defined yet: define the catalogue first`)
    return cache as unknown as Cache<V, A>
  }

  /** Defines every cache of the catalogue, their loaders and routes seeing `deps`. */
  define(deps: Omit<CacheDeps, 'cache'>): CacheDeps {
    const full: CacheDeps = { ...deps, cache: this.cache }
    for (const spec of CACHES)
      this.defined.set(spec.name, this.registry.define(coreDeclaration(spec, full, this.ttlOf(spec))))
    return full
  }

  /** The caches a change of Plex server makes wrong (`plexServer` declared), in catalogue order. */
  plexDependent(): AnyCache[] {
    return CACHES.filter((spec) => spec.plexServer !== undefined).map((spec) => this.cache(spec))
  }

  private ttlOf(spec: AnyCacheSpec): number {
    const ttl = this.ttlMs[spec.name]
    if (ttl === undefined) throw new Error(`cache "${spec.name}": no TTL configured (${spec.ttl.env})`)
    return ttl
  }
}

function coreDeclaration(spec: AnyCacheSpec, deps: CacheDeps, ttlMs: number): CacheDeclaration<unknown, unknown> {
  const keyOf = spec.keyOf
  const viewers = spec.viewers
  return {
    ...spec.policy,
    name: spec.name,
    key: spec.key,
    ttlMs,
    shared: spec.shared,
    keyOf: keyOf && ((args: unknown) => keyOf.call(spec, args, deps)),
    warmArgs: spec.warmArgs,
    ...spec.bounds,
    // The service's principals are its viewers: the route helper reads for `request.viewer`.
    scoped:
      viewers &&
      (viewers.kind === 'own'
        ? { kind: 'own' }
        : { kind: 'view', view: (value, principal) => viewers.view(value, principal as Viewer) }),
    load: (args: unknown, signal: AbortSignal) => spec.load(deps, args, signal),
  }
}
