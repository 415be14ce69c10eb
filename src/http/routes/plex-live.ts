import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Cache } from '../../cache/index.js'
import { ACTIVITIES_NOT_CONFIGURED } from '../../features/activities.js'
import { LIBRARIES_NOT_CONFIGURED } from '../../features/libraries.js'
import { liveStatsNotConfigured } from '../../features/live-stats.js'
import { RECENT_MEDIA_NOT_CONFIGURED } from '../../features/recent-media.js'
import { SESSIONS_NOT_CONFIGURED } from '../../features/sessions.js'
import { USERS_COUNT_NOT_CONFIGURED } from '../../features/users-count.js'
import type { Runtime } from '../../runtime.js'
import type { RouteAccess } from '../auth.js'
import { fastCacheHit, replyFromCache } from '../cached-reply.js'

/**
 * The cached live Plex endpoints. Each answers its not-configured form without touching the
 * cache, else reads through it (stale on error) and fails as `upstreamError` only when Plex is
 * down and nothing was ever loaded.
 */
export function plexLiveRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { plex, plexLive: live } = runtime

  const configured = () => plex.configured

  /** A cached GET: the not-configured form, else the cache; hits answered by the fast path when it runs. */
  const cached = <V>(
    paths: readonly string[],
    cache: Cache<V>,
    what: string,
    notConfigured: () => object,
    failureFields: Record<string, unknown> = {},
    access: RouteAccess = 'protected',
  ) => {
    const options = { what, failureFields }
    // Not async: a hit answers without a promise (replyFromCache makes one only on a miss).
    const answer = (request: FastifyRequest, reply: FastifyReply) => {
      if (!plex.configured) return notConfigured()
      return replyFromCache(request, reply, cache, undefined, options)
    }
    const fast = fastCacheHit(cache, configured)
    for (const path of paths) {
      app.get(path, { config: { access } }, answer)
      app.fastHits?.add(path, access, fast)
    }
  }

  // Komandorr's frontend reads the activities through the older /api/downloads too.
  cached(['/api/plex/activities', '/api/downloads'], live.activities, 'Plex activities', () => ACTIVITIES_NOT_CONFIGURED, { error: true, activities: [] })
  cached(['/api/plex/sessions'], live.sessions, 'Plex sessions', () => SESSIONS_NOT_CONFIGURED, { error: true, sessions: [] })
  cached(['/api/plex/stats/live'], live.liveStats, 'live Plex statistics', () => liveStatsNotConfigured(runtime.config.plex.serverName), {}, 'public')
  cached(['/api/plex/media/recent'], live.recentMedia, 'recently added Plex media', () => RECENT_MEDIA_NOT_CONFIGURED, {}, 'public')
  cached(['/api/plex/users/count'], live.usersCount, 'the Plex shared users count', () => USERS_COUNT_NOT_CONFIGURED)
  cached(['/api/invites/plex/config'], live.libraries, 'the Plex libraries', () => LIBRARIES_NOT_CONFIGURED)
}
