import type { FastifyInstance } from 'fastify'
import type { CacheManagement } from '../../features/stats/cache-management.js'
import { notFound } from '../http-error.js'
import { cacheClearBody, cacheStatsBody, cacheWarmBody, routeDoc } from '../openapi/schemas.js'
import { USERNAME_PATTERN } from './viewers.js'

const clearQuery = {
  type: 'object',
  properties: {
    viewer: { type: 'string', pattern: USERNAME_PATTERN, description: "Drop only this viewer's cached entries" },
  },
} as const

export function cacheManagementRoutes(app: FastifyInstance, deps: { cacheManagement: CacheManagement }): void {
  const { cacheManagement } = deps

  const doc = (summary: string, body: Record<string, unknown>) => ({
    schema: routeDoc('cache', summary, { 200: body }),
  })
  app.get(
    '/api/plex/cache/stats',
    doc(
      "Every cache's counters, load times, entries and bytes, the viewers' scopes, and the Redis state",
      cacheStatsBody,
    ),
    async () => cacheManagement.report(),
  )
  app.post(
    '/api/plex/cache/clear',
    {
      schema: routeDoc(
        'cache',
        "Drops every cached value (or one viewer's, with ?viewer=) here, in Redis and on every instance",
        { 200: cacheClearBody },
        { querystring: clearQuery },
      ),
    },
    async (request) => {
      const { viewer } = request.query as { viewer?: string }
      if (viewer === undefined) return cacheManagement.clear()
      const answer = await cacheManagement.clearViewer(viewer)
      if (answer === undefined) throw notFound(`No viewer named "${viewer}": GET /api/viewers lists them`)
      return answer
    },
  )
  app.post(
    '/api/plex/cache/warm',
    doc('Reloads every cache now; a failed reload keeps the old value', cacheWarmBody),
    () => cacheManagement.warm(),
  )
}
