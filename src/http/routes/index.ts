import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../runtime.js'
import { servicesRoutes } from './services.js'
import { systemRoutes } from './system.js'
import { trafficRoutes } from './traffic.js'

/** A route module adds its routes to the app; a new endpoint is a new small file listed here. */
export type RouteModule = (app: FastifyInstance, runtime: Runtime) => void

export const routeModules: readonly RouteModule[] = [systemRoutes, servicesRoutes, trafficRoutes]
