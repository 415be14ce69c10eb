import { Counter, type Registry } from 'prom-client'

/** Patterns beyond this many share the label `other`: no client can grow the series by asking new paths. */
const MAX_PATTERNS = 200

/** A segment that names one thing (an id, a uuid, a hash): `:id` in the pattern. */
const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=.*\d)[\w.~-]{16,})$/i

/**
 * The route pattern of a path as the metrics label it: `/api/services/:id/check` for
 * `/api/services/42/check`, `frontend` for anything outside `/api` (the pages and their assets).
 */
export function routePattern(path: string): string {
  const bare = path.split('?', 1)[0]!
  if (bare !== '/api' && !bare.startsWith('/api/')) return 'frontend'
  return bare
    .split('/')
    .map((segment) => (ID_SEGMENT.test(segment) ? ':id' : segment))
    .join('/')
}

/** What the service did for Komandorr's routes, per route pattern. */
export interface KomandorrObserver {
  /** A request for Komandorr reached the service (cached or passed through). */
  request(pattern: string): void
  /** A cached GET answered from the cache without asking Komandorr. */
  hit(pattern: string): void
  /** A request went to Komandorr: a pass-through, a cache load or a verdict. */
  upstreamCall(pattern: string): void
}

export const noKomandorrMetrics: KomandorrObserver = { request() {}, hit() {}, upstreamCall() {} }

/**
 * `komandorr_requests_total`, `komandorr_cache_hits_total` and `komandorr_upstream_calls_total`,
 * each by `route` (the pattern). Their ratio per route is what the caches save Komandorr.
 */
export class KomandorrMetrics implements KomandorrObserver {
  private readonly requests: Counter<'route'>
  private readonly hits: Counter<'route'>
  private readonly calls: Counter<'route'>
  private readonly patterns = new Set<string>()

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'komandorr_requests_total',
      help: 'Requests for Komandorr routes (cached or passed through), by route pattern.',
      labelNames: ['route'],
      registers: [registry],
    })
    this.hits = new Counter({
      name: 'komandorr_cache_hits_total',
      help: 'Cached Komandorr GETs answered without asking Komandorr, by route pattern.',
      labelNames: ['route'],
      registers: [registry],
    })
    this.calls = new Counter({
      name: 'komandorr_upstream_calls_total',
      help: 'Requests sent to Komandorr (pass-through, cache loads, credential checks), by route pattern.',
      labelNames: ['route'],
      registers: [registry],
    })
  }

  request(pattern: string): void {
    this.requests.inc({ route: this.bounded(pattern) })
  }

  hit(pattern: string): void {
    this.hits.inc({ route: this.bounded(pattern) })
  }

  upstreamCall(pattern: string): void {
    this.calls.inc({ route: this.bounded(pattern) })
  }

  private bounded(pattern: string): string {
    if (this.patterns.has(pattern)) return pattern
    if (this.patterns.size >= MAX_PATTERNS) return 'other'
    this.patterns.add(pattern)
    return pattern
  }
}
