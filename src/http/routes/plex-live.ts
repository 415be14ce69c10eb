import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Cache } from '../../cache/index.js'
import { ACTIVITIES_NOT_CONFIGURED } from '../../features/activities.js'
import { LIBRARIES_NOT_CONFIGURED } from '../../features/libraries.js'
import { liveStatsNotConfigured } from '../../features/live-stats.js'
import { RECENT_MEDIA_NOT_CONFIGURED } from '../../features/recent-media.js'
import { SESSIONS_NOT_CONFIGURED } from '../../features/sessions.js'
import { USERS_COUNT_NOT_CONFIGURED } from '../../features/users-count.js'
import type { Runtime } from '../../runtime.js'
import { publicRoute } from '../auth.js'
import { replyFromCache } from '../cached-reply.js'
import { activitiesBody, librariesBody, liveStatsBody, recentMediaBody, routeDoc, sessionsBody, usersCountBody } from '../openapi/schemas.js'

/**
 * The cached live Plex endpoints. Each answers its not-configured form without touching the
 * cache, else reads through it (stale on error) and fails as `upstreamError` only when Plex is
 * down and nothing was ever loaded.
 */
export function plexLiveRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { plex, plexLive: live } = runtime

  const cached = <V>(cache: Cache<V>, what: string, notConfigured: () => object, failureFields: Record<string, unknown> = {}) => {
    const options = { what, failureFields }
    // Not async: a hit answers without a promise (replyFromCache makes one only on a miss).
    return function answer(request: FastifyRequest, reply: FastifyReply) {
      if (!plex.configured) return notConfigured()
      return replyFromCache(request, reply, cache, undefined, options)
    }
  }

  const doc = (summary: string, body: Record<string, unknown>) => routeDoc('plex', summary, { 200: body })

  const activities = cached(live.activities, 'Plex activities', () => ACTIVITIES_NOT_CONFIGURED, { error: true, activities: [] })
  const activitiesDoc = doc('Plex background activities and playing sessions (cached, plex_activities)', activitiesBody)
  app.get('/api/plex/activities', { schema: activitiesDoc }, activities)
  // Komandorr's frontend reads the activities through this older path.
  app.get('/api/downloads', { schema: activitiesDoc }, activities)

  app.get(
    '/api/plex/sessions',
    { schema: doc('The playing sessions (cached, plex_sessions)', sessionsBody) },
    cached(live.sessions, 'Plex sessions', () => SESSIONS_NOT_CONFIGURED, { error: true, sessions: [] }),
  )

  app.get(
    '/api/plex/stats/live',
    { config: publicRoute, schema: doc('Users and library totals (cached, plex_stats_live)', liveStatsBody) },
    cached(live.liveStats, 'live Plex statistics', () => liveStatsNotConfigured(runtime.config.plex.serverName)),
  )

  app.get(
    '/api/plex/media/recent',
    { config: publicRoute, schema: doc('Recently added movies and shows (cached, plex_recent_media)', recentMediaBody) },
    cached(live.recentMedia, 'recently added Plex media', () => RECENT_MEDIA_NOT_CONFIGURED),
  )

  app.get(
    '/api/plex/users/count',
    { schema: doc('Users the server is shared with (cached, plex_users_count)', usersCountBody) },
    cached(live.usersCount, 'the Plex shared users count', () => USERS_COUNT_NOT_CONFIGURED),
  )

  app.get(
    '/api/invites/plex/config',
    { schema: doc('The server and its libraries, for the invite form (cached, plex_libraries)', librariesBody) },
    cached(live.libraries, 'the Plex libraries', () => LIBRARIES_NOT_CONFIGURED),
  )
}
