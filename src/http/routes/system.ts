import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { VERSION } from '../../version.js'
import { publicRoute } from '../auth.js'

export function systemRoutes(app: FastifyInstance, runtime: Runtime): void {
  // 200 whenever the process runs, even with Plex, Redis or the database in trouble: the fields
  // say which. `database` is ok, connecting (PostgreSQL not reached since start), unavailable or error.
  app.get('/api/health', { config: { access: 'verify-if-sent' } }, async () => {
    let database: string = await runtime.database.health()
    let servicesCount = 0
    if (database === 'ok') {
      try {
        servicesCount = await runtime.repos.services.count()
      } catch {
        database = 'error'
      }
    }
    return {
      status: database === 'ok' ? 'healthy' : 'degraded',
      version: VERSION,
      services_count: servicesCount,
      redis: runtime.health.redis(),
      database,
      plex: runtime.health.plex(),
    }
  })

  app.get('/api/auth/status', { config: publicRoute }, async () => ({ enabled: runtime.config.auth.enabled }))
}
