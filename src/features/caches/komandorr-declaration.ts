/**
 * A GET of Komandorr's that its frontend polls, cached in front of Komandorr (KOMANDORR_URL): the
 * answer (status, content type, body) is held as Komandorr gave it, one upstream call per TTL
 * however many tabs poll. Routes, invalidation on writes, stats and metrics go over the
 * catalogue (`komandorr-caches.ts`); nothing else knows a path or a TTL.
 */
export interface KomandorrCacheSpec {
  /** The name in stats, clears and logs: `komandorr_arr_queue`. */
  readonly name: string
  /** The key in memory and Redis: `komandorr:arr-activity:queue`. */
  readonly key: string
  /** The path the frontend asks, without a query (a request with one passes through). */
  readonly path: string
  /** Seconds; the shortest interval at which a page of Komandorr's frontend polls the path. */
  readonly ttlSeconds: number
  /**
   * Path prefixes whose writes (POST, PUT, PATCH, DELETE) make the value wrong. Default: the
   * path's area (`/api/arr-activity` for `/api/arr-activity/queue`).
   */
  readonly invalidatedBy?: readonly string[]
  /** Komandorr answers it to anyone, auth on or off (`/api/auth/status`): no verdict asked. */
  readonly open?: boolean
}

/** A Komandorr answer as the cache holds it. */
export interface KomandorrAnswer {
  readonly status: number
  readonly contentType: string | null
  readonly body: string
}

export function declareKomandorrCache(spec: KomandorrCacheSpec): KomandorrCacheSpec {
  return Object.freeze(spec)
}

/** `/api/<area>` of a path: the prefix whose writes drop the caches under it. */
export function areaOf(path: string): string {
  const [, api, area] = path.split('/')
  return api === 'api' && area ? `/api/${area}` : path
}

/** The write prefixes that drop a cache. */
export function invalidatorsOf(spec: KomandorrCacheSpec): readonly string[] {
  return spec.invalidatedBy ?? [areaOf(spec.path)]
}
