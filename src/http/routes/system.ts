import type { FastifyInstance } from 'fastify'
import type { DatabaseConnection, ServicesRepo } from '../../db/index.js'
import type { HealthProbes } from '../../readiness.js'
import { VERSION } from '../../version.js'
import { publicRoute } from '../auth.js'
import { authStatusBody, liveBody, readyBody, healthBody, routeDoc } from '../openapi/schemas.js'

export interface SystemDeps {
  readonly database: DatabaseConnection
  /** `services_count` of `/api/health`. */
  readonly services: ServicesRepo
  readonly health: HealthProbes
  readonly authEnabled: boolean
}

export function systemRoutes(app: FastifyInstance, deps: SystemDeps): void {
  // 200 whenever the process runs, even with Plex, Redis or the database in trouble: the fields
  // say which. `database` is ok, connecting (PostgreSQL not reached since start), unavailable or error.
  const health = routeDoc('system', 'Health: always 200 while the process runs; the fields say what is in trouble', {
    200: healthBody,
  })
  app.get('/api/health', { config: { access: 'verify-if-sent' }, schema: health }, async () => {
    let database: string = await deps.database.health()
    let servicesCount = 0
    if (database === 'ok') {
      try {
        servicesCount = await deps.services.count()
      } catch {
        database = 'error'
      }
    }
    return {
      status: database === 'ok' ? 'healthy' : 'degraded',
      version: VERSION,
      services_count: servicesCount,
      redis: deps.health.redis(),
      database,
      plex: deps.health.plex(),
    }
  })

  // For orchestrators: live says the process answers (nothing checked, so a sick database never
  // gets it restarted); ready says the database answers, its migrations ran and the first warm-up
  // of the Plex caches has settled (readiness.ts). Neither calls Plex.
  const ready = routeDoc(
    'system',
    'Readiness: the database answers, its migrations ran and the Plex caches had their first warm-up',
    { 200: readyBody },
  )
  app.get(
    '/api/health/live',
    { config: publicRoute, schema: routeDoc('system', 'Liveness: the process answers', { 200: liveBody }) },
    async () => ({ status: 'alive' }),
  )
  app.get('/api/health/ready', { config: publicRoute, schema: ready }, async (_request, reply) => {
    const database = await deps.health.database.check()
    const readiness = database.ready ? deps.health.warmUp.check() : database
    if (readiness.ready) return { status: 'ready' }
    return reply.code(503).send({ status: 'not_ready', detail: `Not ready: ${readiness.detail}` })
  })

  app.get(
    '/api/auth/status',
    { config: publicRoute, schema: routeDoc('system', 'Whether ENABLE_AUTH is on', { 200: authStatusBody }) },
    async () => ({ enabled: deps.authEnabled }),
  )
}
