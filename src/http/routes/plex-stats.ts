import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { publicRoute } from '../auth.js'
import { replyFromCache } from '../cached-reply.js'

/** Concurrent streams: far past what one Plex server serves. */
const MAX_PEAK = 1_000_000

const peakBodySchema = {
  type: 'object',
  required: ['peak_concurrent'],
  properties: { peak_concurrent: { type: 'integer', minimum: 0, maximum: MAX_PEAK } },
} as const

interface PeakBody {
  peak_concurrent: number
}

export function plexStatsRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { plex } = runtime
  const { plexStats, dashboard } = runtime.historyAndStats

  app.get('/api/plex/stats', { config: publicRoute }, async (request, reply) => {
    if (!plex.configured) return plexStats.notConfigured()
    return replyFromCache(request, reply, plexStats.cache, undefined, { what: 'the Plex statistics' })
  })

  app.post<{ Body: PeakBody }>('/api/plex/stats/peak', { schema: { body: peakBodySchema } }, (request) =>
    plexStats.raisePeak(request.body.peak_concurrent),
  )

  app.post('/api/plex/stats/reset', () => plexStats.resetPeak())

  // Never waits on Plex: the snapshot is computed from SQLite and the Plex totals last seen.
  app.get('/api/plex/stats/dashboard', { config: publicRoute }, async (request, reply) => {
    dashboard.noteRead()
    return replyFromCache(request, reply, dashboard.cache, undefined, { what: 'the dashboard statistics' })
  })
}
