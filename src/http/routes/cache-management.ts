import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { notFound } from '../http-error.js'
import { USERNAME_PATTERN } from './viewers.js'

const clearQuery = {
  type: 'object',
  properties: { viewer: { type: 'string', pattern: USERNAME_PATTERN } },
} as const

export function cacheManagementRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { cacheManagement } = runtime

  app.get('/api/plex/cache/stats', async () => cacheManagement.report())
  app.post('/api/plex/cache/clear', { schema: { querystring: clearQuery } }, async (request) => {
    const { viewer } = request.query as { viewer?: string }
    if (viewer === undefined) return cacheManagement.clear()
    const answer = await cacheManagement.clearViewer(viewer)
    if (answer === undefined) throw notFound(`No viewer named "${viewer}": GET /api/viewers lists them`)
    return answer
  })
  app.post('/api/plex/cache/warm', () => cacheManagement.warm())
}
