import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { publicRoute } from '../auth.js'
import { replyFromCache } from '../cached-reply.js'
import { dashboardBody, peakBody, plexStatsBody, routeDoc } from '../openapi/schemas.js'

const peakBodySchema = {
  type: 'object',
  required: ['peak_concurrent'],
  properties: { peak_concurrent: { type: 'integer', minimum: 0 } },
} as const

interface PeakBody {
  peak_concurrent: number
}

export function plexStatsRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { plex } = runtime
  const { plexStats, dashboard } = runtime.historyAndStats

  const doc = (summary: string, body: Record<string, unknown>, request?: Record<string, unknown>) => routeDoc('stats', summary, { 200: body }, request)

  app.get('/api/plex/stats', { config: publicRoute, schema: doc('The peak of concurrent streams and the server totals (cached, plex_stats)', plexStatsBody) }, async (request, reply) => {
    if (!plex.configured) return plexStats.notConfigured()
    return replyFromCache(request, reply, plexStats.cache, undefined, { what: 'the Plex statistics' })
  })

  app.post<{ Body: PeakBody }>('/api/plex/stats/peak', { schema: doc('Raises the stored peak when this one is higher', peakBody, { body: peakBodySchema }) }, (request) =>
    plexStats.raisePeak(request.body.peak_concurrent),
  )

  app.post('/api/plex/stats/reset', { schema: doc('Resets the peak to 0', peakBody) }, () => plexStats.resetPeak())

  // Never waits on Plex: the snapshot is computed from SQLite and the Plex totals last seen.
  app.get('/api/plex/stats/dashboard', { config: publicRoute, schema: doc('The dashboard snapshot (cached, background_stats)', dashboardBody) }, async (request, reply) => {
    dashboard.noteRead()
    return replyFromCache(request, reply, dashboard.cache, undefined, { what: 'the dashboard statistics' })
  })
}
