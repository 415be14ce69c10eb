import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'

export function cacheManagementRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { cacheManagement } = runtime

  app.get('/api/plex/cache/stats', async () => cacheManagement.report())
  app.post('/api/plex/cache/clear', () => cacheManagement.clear())
  app.post('/api/plex/cache/warm', () => cacheManagement.warm())
}
