import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { publicRoute } from '../auth.js'
import { sendCacheEntry } from '../cached-reply.js'
import { upstreamError } from '../upstream-error.js'

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

  app.get('/api/plex/stats', { config: publicRoute }, async (request, reply) => {
    if (!plex.configured) return plexStats.notConfigured()
    let read
    try {
      read = await plexStats.cache.read()
    } catch (error) {
      throw upstreamError(error, 'the Plex statistics')
    }
    return sendCacheEntry(request, reply, plexStats.cache, read.entry, read.outcome)
  })

  app.post<{ Body: PeakBody }>('/api/plex/stats/peak', { schema: { body: peakBodySchema } }, (request) =>
    plexStats.raisePeak(request.body.peak_concurrent),
  )

  app.post('/api/plex/stats/reset', () => plexStats.resetPeak())

  // Never waits on Plex: the snapshot is computed from SQLite and the Plex totals last seen.
  app.get('/api/plex/stats/dashboard', { config: publicRoute }, async (request, reply) => {
    dashboard.noteRead()
    const read = await dashboard.cache.read()
    return sendCacheEntry(request, reply, dashboard.cache, read.entry, read.outcome)
  })
}
