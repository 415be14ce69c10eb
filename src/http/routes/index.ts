import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import type { AppDeps } from '../app.js'
import { cacheManagementRoutes } from './cache-management.js'
import { cachePageRoutes } from './cache-page.js'
import { cachedRoutes } from './cached.js'
import { imageProxyRoutes } from './image-proxy.js'
import { komandorrProxyRoutes } from './komandorr-proxy.js'
import { komandorrStandaloneRoutes } from './komandorr-standalone.js'
import { metricsRoutes } from './metrics.js'
import { mirrorRoutes } from './mirror.js'
import { plexConfigRoutes } from './plex-config.js'
import { plexPeakRoutes } from './plex-peak.js'
import { servicesRoutes } from './services.js'
import { systemRoutes } from './system.js'
import { trafficRoutes } from './traffic.js'
import { viewersRoutes } from './viewers.js'
import { watchHistorySyncRoutes } from './watch-history-sync.js'

/** Registers one route module, handing it the part of the runtime it uses. */
export type RouteRegistration = (app: FastifyInstance, runtime: Runtime) => void | false

/**
 * The one place the HTTP side sees the whole runtime: a new endpoint is a small route module
 * taking its deps as an object, and one line here.
 */
export const routeModules: readonly RouteRegistration[] = [
  (app, r) =>
    systemRoutes(app, {
      database: r.database,
      services: r.repos.services,
      health: r.health,
      authEnabled: r.config.auth.enabled,
      answersAuthStatus: r.komandorr === undefined,
    }),
  // Services and traffic are Komandorr's in front of Komandorr (KOMANDORR_URL).
  (app, r) =>
    r.komandorr === undefined &&
    servicesRoutes(app, {
      services: r.repos.services,
      monitor: r.monitor,
      traffic: r.traffic,
      clock: r.clock,
      configuredPort: r.config.port,
    }),
  (app, r) => r.komandorr === undefined && trafficRoutes(app, { services: r.repos.services, traffic: r.traffic }),
  (app, r) => cachedRoutes(app, { cacheDeps: r.cacheDeps, registry: r.caches, limits: r.config.limits }),
  (app, r) => plexConfigRoutes(app, { plexConfig: r.plexConfig }),
  (app, r) => imageProxyRoutes(app, { images: r.plexImages }),
  (app, r) => watchHistorySyncRoutes(app, { watchHistorySync: r.watchHistorySync }),
  (app, r) => plexPeakRoutes(app, { plexPeak: r.plexPeak }),
  (app, r) => cacheManagementRoutes(app, { cacheManagement: r.cacheManagement }),
  (app, r) => viewersRoutes(app, { viewers: r.viewers }),
  (app, r) => metricsRoutes(app, { metrics: r.metrics, metricsPublic: r.config.metrics.public }),
  (app, r) => cachePageRoutes(app, { cacheHistory: r.cacheHistory }),
  (app, r) =>
    komandorrStandaloneRoutes(app, {
      config: r.config,
      plex: r.plex,
      services: r.repos.services,
      traffic: r.traffic,
      clock: r.clock,
    }),
  (app, r) => r.komandorr !== undefined && komandorrProxyRoutes(app, { komandorr: r.komandorr }),
  (app, r) => mirrorRoutes(app, { mirror: r.mirror }),
]

/** What `buildApp` takes from the runtime: the hooks' deps, and every route module with its own. */
export function appDeps(runtime: Runtime): AppDeps {
  return {
    config: runtime.config,
    logger: runtime.logger,
    clock: runtime.clock,
    viewers: runtime.viewers,
    metrics: runtime.metrics,
    komandorr: runtime.komandorr?.callers,
    registerRoutes: (app) => {
      for (const register of routeModules) register(app, runtime)
    },
  }
}
