import type { FastifyInstance } from 'fastify'
import type { Clock } from '../../cache/index.js'
import type { Config } from '../../config.js'
import type { ServicesRepo } from '../../db/services-repo.js'
import type { PlexSettings } from '../../plex/plex-connection.js'
import type { TrafficLog } from '../../features/traffic/traffic-log.js'
import { standaloneCoreRoutes } from './komandorr-standalone-core.js'
import { standaloneIconRoutes } from './komandorr-standalone-icons.js'
import { standaloneIntegrationRoutes } from './komandorr-standalone-integrations.js'
import { standaloneMonitoringRoutes } from './komandorr-standalone-monitoring.js'

/** What the standalone routes read: configuration, the Plex server in use, services and traffic. */
export interface StandaloneDeps {
  readonly config: Pick<Config, 'komandorrUrl' | 'frontendDir' | 'logLevel' | 'database'> & {
    readonly plex: Pick<Config['plex'], 'serverName'>
  }
  readonly plex: { readonly settings: PlexSettings | undefined }
  readonly services: Pick<ServicesRepo, 'list' | 'get'>
  readonly traffic: Pick<TrafficLog, 'latest' | 'latestPerService' | 'recent' | 'onRecord'>
  readonly clock: Pick<Clock, 'wallNow'>
}

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
