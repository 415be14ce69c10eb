import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { cacheManagementRoutes } from './cache-management.js'
import { cachePageRoutes } from './cache-page.js'
import { cachedRoutes } from './cached.js'
import { imageProxyRoutes } from './image-proxy.js'
import { metricsRoutes } from './metrics.js'
import { mirrorRoutes } from './mirror.js'
import { plexConfigRoutes } from './plex-config.js'
import { plexPeakRoutes } from './plex-peak.js'
import { servicesRoutes } from './services.js'
import { systemRoutes } from './system.js'
import { trafficRoutes } from './traffic.js'
import { viewersRoutes } from './viewers.js'
import { watchHistorySyncRoutes } from './watch-history-sync.js'

/** A route module adds its routes to the app; a new endpoint is a new small file listed here. */
export type RouteModule = (app: FastifyInstance, runtime: Runtime) => void

export const routeModules: readonly RouteModule[] = [
  systemRoutes,
  servicesRoutes,
  trafficRoutes,
  cachedRoutes,
  plexConfigRoutes,
  imageProxyRoutes,
  watchHistorySyncRoutes,
  plexPeakRoutes,
  cacheManagementRoutes,
  viewersRoutes,
  metricsRoutes,
  cachePageRoutes,
  (app, runtime) => mirrorRoutes(app, { mirror: runtime.mirror }),
]
