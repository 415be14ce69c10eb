import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { AnyCache, CacheRegistry, ScopeStats } from '../cache/index.js'
import type { RedisLayer } from '../cache/redis/index.js'
import { registerCacheMetrics } from './cache-metrics.js'
import { HttpMetrics } from './http-metrics.js'
import { PlexMetrics, type PlexMetricSources } from './plex-metrics.js'
import { registerRedisMetrics } from './redis-metrics.js'
import { registerScopeMetrics } from './scope-metrics.js'

export interface MetricSources extends PlexMetricSources {
  readonly caches: CacheRegistry
  readonly redis: RedisLayer | undefined
}

/**
 * Everything `GET /metrics` shows, in one prom-client registry of its own. Made before the Plex
 * client and the caches (they get its observers), then `watch`es them once they exist. A scrape
 * reads memory only: counters, held values, the Redis layer's last known state.
 */
export class ServiceMetrics {
  readonly registry = new Registry()
  readonly plex: PlexMetrics
  /** The per-route request histogram (Fastify's routes and the fast hit path). */
  readonly http: HttpMetrics
  /** For the cache registry: every loader call when it ends. */
  readonly observeLoad: (cache: string, ms: number, ok: boolean) => void
  private caches: () => readonly AnyCache[] = () => []
  private scopes: () => ScopeStats | undefined = () => undefined

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    this.plex = new PlexMetrics(this.registry)
    this.http = new HttpMetrics(this.registry)
    this.observeLoad = registerCacheMetrics(this.registry, () => this.caches())
    registerScopeMetrics(
      this.registry,
      () => this.scopes(),
      () => this.caches(),
    )
  }

  watch(sources: MetricSources): void {
    this.caches = () => sources.caches.list()
    this.scopes = () => sources.caches.scopeStats()
    this.plex.watch(sources)
    registerRedisMetrics(this.registry, sources.redis)
  }

  /** The per-route request histogram; call before any route is added. */
  installHttp(app: FastifyInstance): void {
    this.http.install(app)
  }

  get contentType(): string {
    return this.registry.contentType
  }

  scrape(): Promise<string> {
    return this.registry.metrics()
  }
}
