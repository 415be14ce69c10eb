import type { FastifyInstance } from 'fastify'
import { PlexNotConfiguredError } from '../../plex/plex-connection.js'
import type { WatchHistorySync } from '../../features/history/watch-history-sync.js'
import { routeDoc, watchHistorySyncBody } from '../openapi/schemas.js'
import { upstreamError } from '../upstream-error.js'

/** `POST /api/plex/watch-history/sync`; the history itself is a cached route. */
export function watchHistorySyncRoutes(app: FastifyInstance, deps: { watchHistorySync: WatchHistorySync }): void {
  const { watchHistorySync } = deps

  const schema = routeDoc('plex', 'Syncs the watch history from Plex now (joins a sync in flight)', {
    200: watchHistorySyncBody,
  })
  app.post('/api/plex/watch-history/sync', { schema }, async () => {
    try {
      const { added, updated } = await watchHistorySync.sync()
      return {
        success: true,
        message: `Watch history sync completed: ${added} new ${added === 1 ? 'entry' : 'entries'}`,
        added,
        updated,
      }
    } catch (error) {
      if (error instanceof PlexNotConfiguredError) {
        return { success: false, message: 'Plex not configured: set the Plex server first', added: 0, updated: 0 }
      }
      throw upstreamError(error, 'the Plex watch history', { success: false })
    }
  })
}
