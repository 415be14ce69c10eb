import type { FastifyInstance } from 'fastify'
import type { StandaloneDeps } from './komandorr-standalone-deps.js'
import { standaloneCoreRoutes } from './komandorr-standalone-core.js'
import { standaloneIconRoutes } from './komandorr-standalone-icons.js'
import { standaloneIntegrationRoutes } from './komandorr-standalone-integrations.js'
import { standaloneMonitoringRoutes } from './komandorr-standalone-monitoring.js'

/**
 * Standalone (no KOMANDORR_URL): the routes of Komandorr's backend that its frontend calls and
 * that this service does not own otherwise, answered here as a Komandorr backend answers them
 * with its integrations not configured. With KOMANDORR_URL set they are Komandorr's to answer.
 */
export function komandorrStandaloneRoutes(app: FastifyInstance, deps: StandaloneDeps): void {
  if (deps.config.komandorrUrl !== null) return
  standaloneCoreRoutes(app, deps)
  standaloneMonitoringRoutes(app, deps)
  standaloneIntegrationRoutes(app)
  standaloneIconRoutes(app, deps)
}
