import type { FastifyInstance } from 'fastify'
import type { ServiceMetrics } from '../../metrics/index.js'
import { publicRoute } from '../auth.js'
import { routeDoc, textBody } from '../openapi/schemas.js'

/** `GET /metrics`: the Prometheus text format, from memory (see src/metrics/). Behind auth unless METRICS_PUBLIC. */
export function metricsRoutes(
  app: FastifyInstance,
  deps: { metrics: ServiceMetrics | undefined; metricsPublic: boolean },
): void {
  const metrics = deps.metrics
  if (metrics === undefined) return
  const schema = routeDoc('metrics', 'Prometheus metrics, read from memory (never calls Plex, Redis or SQLite)', {
    200: textBody('text/plain', 'Prometheus text format 0.0.4'),
  })
  const options = deps.metricsPublic ? { config: publicRoute, schema } : { schema }
  app.get('/metrics', options, async (_request, reply) => {
    const text = await metrics.scrape()
    return reply.type(metrics.contentType).send(text)
  })
}
