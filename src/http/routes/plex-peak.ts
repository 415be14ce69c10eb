import type { FastifyInstance } from 'fastify'
import type { PlexPeak } from '../../features/stats/plex-peak.js'
import { peakBody, routeDoc } from '../openapi/schemas.js'

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

/** The writes of the stored peak; `GET /api/plex/stats` and `/stats/dashboard` are cached routes. */
export function plexPeakRoutes(app: FastifyInstance, deps: { plexPeak: PlexPeak }): void {
  const { plexPeak } = deps

  const raise = routeDoc(
    'stats',
    'Raises the stored peak of concurrent streams when this one is higher',
    { 200: peakBody },
    { body: peakBodySchema },
  )
  app.post<{ Body: PeakBody }>('/api/plex/stats/peak', { schema: raise }, (request) =>
    plexPeak.raise(request.body.peak_concurrent),
  )

  app.post(
    '/api/plex/stats/reset',
    { schema: routeDoc('stats', 'Resets the stored peak to 0', { 200: peakBody }) },
    () => plexPeak.reset(),
  )
}
