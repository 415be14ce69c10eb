import type { Registry } from 'prom-client'
import type { Cache, CacheRegistry } from '../../cache/index.js'
import { authStatusCache, KOMANDORR_CACHES } from '../caches/komandorr-caches.js'
import { invalidatorsOf, type KomandorrAnswer, type KomandorrCacheSpec } from '../caches/komandorr-declaration.js'
import { KomandorrClient } from './client.js'
import { KomandorrMetrics, noKomandorrMetrics, routePattern, type KomandorrObserver } from './metrics.js'
import { KomandorrCallers } from './verdicts.js'

export { KomandorrAnswerError, KomandorrUnreachableError } from './client.js'
export { routePattern } from './metrics.js'
export type { KomandorrObserver } from './metrics.js'
export type { KomandorrVerdict } from './verdicts.js'

/** Writes under it change who Komandorr accepts. */
const AUTH_PREFIX = '/api/auth'

/** A cached GET of Komandorr's, declared and defined. */
export interface KomandorrCached {
  readonly spec: KomandorrCacheSpec
  readonly cache: Cache<KomandorrAnswer>
}

/**
 * The service in front of Komandorr (KOMANDORR_URL): the client of Komandorr's API, the cached
 * GETs of the catalogue (`features/caches/komandorr-caches.ts`) on the service's registry,
 * Komandorr's verdicts on callers, and the per-route metrics.
 */
export class KomandorrUpstream {
  readonly client: KomandorrClient
  readonly callers: KomandorrCallers
  readonly cached: readonly KomandorrCached[]
  readonly observe: KomandorrObserver

  constructor(
    readonly url: string,
    private readonly registry: CacheRegistry,
    metricsRegistry: Registry | undefined,
  ) {
    this.observe = metricsRegistry === undefined ? noKomandorrMetrics : new KomandorrMetrics(metricsRegistry)
    const observe = this.observe
    this.client = new KomandorrClient(url, (path) => observe.upstreamCall(routePattern(path)))
    const cached = KOMANDORR_CACHES.map((spec) => ({
      spec,
      cache: registry.define<KomandorrAnswer>({
        name: spec.name,
        key: spec.key,
        ttlMs: spec.ttlSeconds * 1000,
        load: (_args, signal) =>
          this.client.getOk(spec.path, spec.open ? undefined : this.callers.loaderAuthorization, signal),
      }),
    }))
    this.cached = cached
    this.callers = new KomandorrCallers(registry, this.client, this.cacheOf(authStatusCache))
  }

  cacheOf(spec: KomandorrCacheSpec): Cache<KomandorrAnswer> {
    const found = this.cached.find((cached) => cached.spec === spec)
    if (found === undefined) throw new Error(`Komandorr cache "${spec.name}" is not in the catalogue`)
    return found.cache
  }

  /**
   * Drops, here, in Redis and on every instance (the bus), the cached GETs a write to `path` may
   * have changed: those whose `invalidatedBy` prefixes hold it, and every remembered verdict
   * after a write to Komandorr's auth (`/api/auth/toggle`, `/api/auth/update`). Returns the names
   * of the cached GETs dropped.
   */
  async afterWrite(path: string): Promise<string[]> {
    const bare = path.split('?', 1)[0]!.replace(/\/+$/, '')
    const hit = this.cached.filter(({ spec }) =>
      invalidatorsOf(spec).some((prefix) => bare === prefix || bare.startsWith(`${prefix}/`)),
    )
    const authChanged = bare === AUTH_PREFIX || bare.startsWith(`${AUTH_PREFIX}/`)
    await Promise.all([
      ...hit.map(({ spec }) => this.registry.invalidate(spec.name)),
      ...(authChanged ? [this.callers.forget()] : []),
    ])
    return hit.map(({ spec }) => spec.name)
  }
}
