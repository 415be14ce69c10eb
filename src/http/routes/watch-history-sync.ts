import type { FastifyInstance } from 'fastify'
import { PlexNotConfiguredError } from '../../plex/plex-connection.js'
import type { Runtime } from '../../runtime.js'
import { upstreamError } from '../upstream-error.js'

/** `POST /api/plex/watch-history/sync`; the history itself is a cached route. */
export function watchHistorySyncRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { watchHistorySync } = runtime

  app.post('/api/plex/watch-history/sync', async () => {
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
