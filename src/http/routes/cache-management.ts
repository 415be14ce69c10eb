import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { cacheClearBody, cacheStatsBody, cacheWarmBody, routeDoc } from '../openapi/schemas.js'

export function cacheManagementRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { cacheManagement } = runtime

  const doc = (summary: string, body: Record<string, unknown>) => ({ schema: routeDoc('cache', summary, { 200: body }) })
  app.get('/api/plex/cache/stats', doc("Every cache's counters, load times, entries and bytes, and the Redis state", cacheStatsBody), async () => cacheManagement.report())
  app.post('/api/plex/cache/clear', doc('Drops every cached value here, in Redis and on every instance', cacheClearBody), () => cacheManagement.clear())
  app.post('/api/plex/cache/warm', doc('Reloads every cache now; a failed reload keeps the old value', cacheWarmBody), () => cacheManagement.warm())
}
