import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify'
import http from 'node:http'
import { LazyChildLogger, type Logger } from '../logger.js'
import type { Clock } from '../cache/index.js'
import type { Config } from '../config.js'
import type { KomandorrCallers } from '../features/komandorr-upstream/verdicts.js'
import type { ViewerAccounts } from '../features/viewers/accounts.js'
import type { ServiceMetrics } from '../metrics/index.js'
import { registerLoginMetrics } from '../metrics/login-metrics.js'
import { createCallerCheck, createFastCaller, installAuth } from './auth.js'
import { CorsPolicy, installCors } from './cors.js'
import { installGracefulClose } from './drain.js'
import { clientErrorHandler, expectationFailed, frameworkErrors, installErrorHandling } from './error-handler.js'
import { FastHits } from './fast-hits.js'
import { installFrontend } from './frontend.js'
import { komandorrCallerCheck } from './komandorr-callers.js'
import { LoginLimits } from './login-limits.js'
import { installOpenApi } from './openapi/install.js'
import { validatorCompiler } from './validation.js'

export const BODY_LIMIT_BYTES = 1024 * 1024

declare module 'fastify' {
  interface FastifyInstance {
    /** Cache hits answered in front of the router; undefined when every request must go through Fastify. */
    fastHits: FastHits | undefined
    /** The bounds on failed sign-ins; undefined with auth off. */
    loginLimits: LoginLimits | undefined
  }
}

/** What the app's hooks use; `appDeps` in routes/index.ts builds it from the runtime. */
export interface AppDeps {
  readonly config: Pick<Config, 'corsOrigins' | 'auth' | 'http' | 'frontendDir' | 'limits'>
  readonly logger: Logger
  /** Times the windows of the limits on failed sign-ins. */
  readonly clock: Clock
  /** Who may sign in beside the admin. */
  readonly viewers: ViewerAccounts
  readonly metrics: ServiceMetrics | undefined
  /** Adds every route module's routes. */
  readonly registerRoutes: (app: FastifyInstance) => void
  /** In front of Komandorr (KOMANDORR_URL): Komandorr's verdicts decide who is accepted, and it serves the frontend. */
  readonly komandorr?: KomandorrCallers
}

/** The HTTP face of the service: hooks once, then the route modules. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const cors = new CorsPolicy(deps.config.corsOrigins)
  // In front of Komandorr, the callers Komandorr accepts are the ones accepted here.
  const auth = deps.komandorr === undefined ? deps.config.auth : { ...deps.config.auth, enabled: true }
  const limits = loginLimits(deps)
  const callers =
    deps.komandorr === undefined ? createCallerCheck(auth, deps.viewers, limits) : komandorrCallerCheck(deps.komandorr)
  // At debug level every request is logged, by Fastify: then every request goes through it.
  const metrics = deps.metrics
  const fastHits = deps.logger.isLevelEnabled('debug')
    ? undefined
    : new FastHits(
        createFastCaller(auth, callers),
        cors,
        metrics && ((path) => metrics.http.cellsFor('GET', path, 200)),
      )
  const timeouts = deps.config.http
  const app = Fastify({
    serverFactory: (handler, options) => createServer(handler, options, fastHits),
    // Typed as Fastify's base logger so route modules take a plain FastifyInstance.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new QuietRequestLog(deps.logger.isLevelEnabled('debug')),
    childLoggerFactory: (logger, bindings, options) =>
      new LazyChildLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
    clientErrorHandler,
    // Slow clients (slowloris): Node checks these every connectionsCheckingInterval.
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // requireHostHeader: Node would answer a bodiless 400 itself; requireHost below says why.
    http: {
      headersTimeout: timeouts.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersTimeoutMs),
      requireHostHeader: false,
    },
    // Stopping is installGracefulClose's: a request that reached us is answered, not given a 503,
    // and idle connections are not reset the moment close() begins (see drain.ts).
    forceCloseConnections: false,
    return503OnClosing: false,
  })

  app.server.on('checkExpectation', expectationFailed)
  app.setValidatorCompiler(validatorCompiler)
  installErrorHandling(app)
  requireHost(app)
  acceptEmptyJsonBodies(app)
  installCors(app, cors)
  installAuth(app, auth, callers)
  // Before the drain's own hook (hooks run in order, and it waits for quiet): from the moment
  // close() begins every request goes through Fastify, which answers it with `Connection: close`.
  app.addHook('preClose', async () => fastHits?.close())
  installGracefulClose(app)
  app.decorate('fastHits', fastHits)
  app.decorate('loginLimits', limits)
  deps.metrics?.installHttp(app)
  installOpenApi(app)

  // In a plugin, so that it runs after the OpenAPI plugin has loaded and sees every route.
  void app.register(async (routes) => {
    deps.registerRoutes(routes)
    if (deps.config.frontendDir !== null && deps.komandorr === undefined)
      installFrontend(routes, deps.config.frontendDir)
  })
  return app
}

/** The bounds on failed sign-ins (auth on), counted in `/metrics`. */
function loginLimits(deps: AppDeps): LoginLimits | undefined {
  if (!deps.config.auth.enabled) return undefined
  const limits = new LoginLimits(deps.config.limits.login, deps.clock)
  deps.viewers.onCreated(() => limits.forgetFailures())
  if (deps.metrics) registerLoginMetrics(deps.metrics.registry, () => limits.counts)
  return limits
}

/**
 * Dashboards poll every few seconds, and Komandorr's frontend polls paths this service does not
 * have: per-request lines (404s included) go to debug, one per request, not info.
 */
class QuietRequestLog extends LogController {
  constructor(private readonly debug: boolean) {
    super()
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply)
    if (!this.debug) return
    request.log.debug(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    )
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'no such route')
  }
}

/** HTTP/1.1 requires a Host header (RFC 9112 §3.2); its absence is a 400 with `detail`, like any bad request. */
function requireHost(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.headers.host !== undefined || request.raw.httpVersionMinor !== 1) return done()
    const detail = 'An HTTP/1.1 request needs a Host header'
    void reply.code(400).header('connection', 'close').send({ detail, message: detail })
  })
}

/**
 * Komandorr's frontend sends `Content-Type: application/json` on every call, bodiless ones
 * included (`POST /services/{id}/check`, `DELETE`): an empty body is no body, not bad JSON.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined)
    parseJson(request, body as string, done)
  })
}

/**
 * The HTTP server Fastify would make (same timeouts), with cache hits answered in front of
 * Fastify's router when they can be (`FastHits`).
 */
function createServer(
  handler: http.RequestListener,
  options: FastifyServerOptions,
  fastHits: FastHits | undefined,
): http.Server {
  const listener: http.RequestListener =
    fastHits === undefined
      ? handler
      : (request, response) => {
          if (!fastHits.handle(request, response)) handler(request, response)
        }
  const server = http.createServer((options as { http?: http.ServerOptions }).http ?? {}, listener)
  server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000
  server.requestTimeout = options.requestTimeout ?? 0
  server.setTimeout(options.connectionTimeout ?? 0)
  if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket
  return server
}
