import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import type { Cache, CacheRegistry, Principal } from '../../cache/index.js'
import type { CacheDeps, CachedRoute, CacheSpec } from '../../features/caches/declaration.js'
import type { Config } from '../../config.js'
import { CACHES } from '../../features/caches/index.js'
import { publicRoute } from '../auth.js'
import { clientOf } from '../client-address.js'
import { HeavyQueries } from '../heavy-queries.js'
import { HttpError } from '../http-error.js'
import { fastCacheHit, replyFromCache, type CachedRouteOptions } from '../cached-reply.js'
import type { FastAnswer } from '../fast-hits.js'
import { cached, routeDoc } from '../openapi/schemas.js'

/**
 * Every cached GET, from the route entries of the catalogue's declarations. Each answers its
 * not-configured form without touching the cache (when it has one and no Plex server is set),
 * else reads through the cache (stale on error) and fails as `upstreamError` only when the
 * upstream is down and nothing was ever loaded. A viewer's request reads in the viewer's scope
 * (routes of caches that declare `viewers`; the others are the admin's only).
 */
export function cachedRoutes(
  app: FastifyInstance,
  deps: {
    cacheDeps: CacheDeps
    registry: CacheRegistry
    limits: Pick<Config['limits'], 'heavyQueriesPerClient' | 'heavyQueriesMax'>
  },
): void {
  const heavy = new HeavyQueries(deps.limits.heavyQueriesPerClient, deps.limits.heavyQueriesMax)
  for (const spec of CACHES) {
    for (const route of spec.routes ?? []) {
      const options: RouteShorthandOptions = {
        schema: routeSchema(route),
        config: { ...(route.public ? publicRoute : {}), viewers: spec.viewers !== undefined },
      }
      const handler = cachedHandler(
        spec,
        route,
        deps.cacheDeps,
        deps.registry,
        route.heavy !== undefined ? heavy : undefined,
      )
      const fast = fastAnswer(spec, route, deps.cacheDeps, deps.registry)
      for (const path of route.paths) {
        app.get(path, options, handler)
        if (fast !== undefined)
          app.fastHits?.add(path, route.public ? 'public' : 'protected', spec.viewers !== undefined, fast)
      }
    }
  }
}

/**
 * The hit of a route that reads no query and runs nothing per request, answered in front of
 * Fastify (`FastHits`), a viewer's from their scope; routes that do (keyed caches, the
 * dashboard, a viewer's own loads) always go through it.
 */
function fastAnswer<V, A>(
  spec: CacheSpec<V, A>,
  route: CachedRoute<A>,
  deps: CacheDeps,
  registry: CacheRegistry,
): FastAnswer | undefined {
  if (route.query !== undefined || route.onRequest !== undefined || spec.viewers?.kind === 'own') return undefined
  const configured = route.notConfigured === undefined ? () => true : () => deps.plex.configured
  const scopeOf = spec.viewers === undefined ? undefined : (viewer: Principal) => registry.scope(viewer)
  return fastCacheHit(deps.cache(spec) as unknown as Cache<V>, configured, route.shape, scopeOf, route.internal)
}

/** The route's OpenAPI schema: the value with the cache fields (or as stored for an array), or the not-configured answer. */
function routeSchema<A>(route: CachedRoute<A>) {
  const value = route.shape === 'array' ? route.body : cached(route.body)
  const body = route.notConfiguredBody === undefined ? value : { anyOf: [value, route.notConfiguredBody] }
  return routeDoc(
    'cached',
    route.summary,
    { 200: body },
    route.query === undefined ? {} : { querystring: route.query.schema },
  )
}

/** Not async: a hit answers without a promise (replyFromCache makes one only on a miss). */
function cachedHandler<V, A>(
  spec: CacheSpec<V, A>,
  route: CachedRoute<A>,
  deps: CacheDeps,
  registry: CacheRegistry,
  heavy: HeavyQueries | undefined,
) {
  const cache = deps.cache(spec)
  const options: CachedRouteOptions = {
    what: route.what,
    shape: route.shape,
    failureFields: route.failureFields,
    internal: route.internal,
  }
  const isHeavy = route.heavy
  const heavyOptions: CachedRouteOptions | undefined = heavy && {
    ...options,
    admit: (request) => heavy.enter(clientOf(request.ip), route.what),
  }
  const { notConfigured, onRequest, query } = route
  const viewers = spec.viewers
  return function answer(request: FastifyRequest, reply: FastifyReply) {
    if (notConfigured !== undefined && !deps.plex.configured) return notConfigured(deps)
    onRequest?.(deps)
    let args = query === undefined ? (undefined as A) : query.args(request.query as Record<string, unknown>)
    const viewer = request.viewer
    const chosen = heavyOptions !== undefined && isHeavy!(args) ? heavyOptions : options
    if (viewer === null || viewers === undefined) return replyFromCache(request, reply, cache, args, chosen)
    if (viewers.kind === 'own') {
      const narrowed = viewers.args(args, viewer)
      if ('forbidden' in narrowed) throw new HttpError(403, narrowed.forbidden)
      args = narrowed.args
    }
    return replyFromCache(request, reply, cache, args, chosen, registry.scope(viewer))
  }
}
