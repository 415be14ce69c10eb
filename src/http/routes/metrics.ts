import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { publicRoute } from '../auth.js'

/** `GET /metrics`: the Prometheus text format, from memory (see src/metrics/). Behind auth unless METRICS_PUBLIC. */
export function metricsRoutes(app: FastifyInstance, runtime: Runtime): void {
  const metrics = runtime.metrics
  if (metrics === undefined) return
  const options = runtime.config.metrics.public ? { config: publicRoute } : {}
  app.get('/metrics', options, async (_request, reply) => {
    const text = await metrics.scrape()
    return reply.type(metrics.contentType).send(text)
  })
}
