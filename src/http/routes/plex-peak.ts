import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'

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
export function plexPeakRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { plexPeak } = runtime

  app.post<{ Body: PeakBody }>('/api/plex/stats/peak', { schema: { body: peakBodySchema } }, (request) => plexPeak.raise(request.body.peak_concurrent))

  app.post('/api/plex/stats/reset', () => plexPeak.reset())
}
