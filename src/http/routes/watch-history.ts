import type { FastifyInstance } from 'fastify'
import { PlexNotConfiguredError } from '../../features/plex-connection.js'
import { WATCH_HISTORY_DEFAULT_LIMIT, WATCH_HISTORY_MAX_LIMIT, type WatchHistoryQuery } from '../../features/watch-history.js'
import type { Runtime } from '../../runtime.js'
import { replyFromCache } from '../cached-reply.js'
import { routeDoc, watchHistoryBody, watchHistorySyncBody } from '../openapi/schemas.js'
import { upstreamError } from '../upstream-error.js'

const listQuerySchema = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: WATCH_HISTORY_MAX_LIMIT, default: WATCH_HISTORY_DEFAULT_LIMIT },
    offset: { type: 'integer', minimum: 0, default: 0 },
    user_id: { type: 'integer' },
  },
} as const

interface ListQuery {
  limit: number
  offset: number
  user_id?: number
}

export function watchHistoryRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { watchHistory, watchHistorySync } = runtime.historyAndStats

  // Served from SQLite (filled by the sync), so it answers whether or not Plex is up.
  const list = routeDoc('plex', 'Watch history, newest first (cached per query, watch_history; from SQLite)', { 200: watchHistoryBody }, { querystring: listQuerySchema })
  app.get<{ Querystring: ListQuery }>('/api/plex/watch-history', { schema: list }, async (request, reply) => {
    const { limit, offset, user_id: userId } = request.query
    const query: WatchHistoryQuery = userId === undefined ? { limit, offset } : { limit, offset, userId }
    return replyFromCache(request, reply, watchHistory, query, { what: 'the watch history', shape: 'array' })
  })

  app.post('/api/plex/watch-history/sync', { schema: routeDoc('plex', 'Syncs the watch history from Plex now (joins a sync in flight)', { 200: watchHistorySyncBody }) }, async () => {
    try {
      const { added, updated } = await watchHistorySync.sync()
      return { success: true, message: `Watch history sync completed: ${added} new ${added === 1 ? 'entry' : 'entries'}`, added, updated }
    } catch (error) {
      if (error instanceof PlexNotConfiguredError) {
        return { success: false, message: 'Plex not configured: set the Plex server first', added: 0, updated: 0 }
      }
      throw upstreamError(error, 'the Plex watch history', { success: false })
    }
  })
}
