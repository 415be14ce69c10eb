import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { LazyChildLogger, type Logger } from '../logger.js'
import type { Runtime } from '../runtime.js'
import { installAuth } from './auth.js'
import { installGracefulClose } from './drain.js'
import { clientErrorHandler, expectationFailed, frameworkErrors, installErrorHandling } from './error-handler.js'
import { installFrontend } from './frontend.js'
import { installOpenApi } from './openapi/install.js'
import { routeModules } from './routes/index.js'
import { validatorCompiler } from './validation.js'

export const BODY_LIMIT_BYTES = 1024 * 1024

/** The HTTP face of the service: hooks once, then every route module of routes/index.ts. */
export function buildApp(runtime: Runtime): FastifyInstance {
  const { http } = runtime.config
  const app = Fastify({
    // Typed as Fastify's base logger so route modules take a plain FastifyInstance.
    loggerInstance: runtime.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new QuietRequestLog(runtime.logger.isLevelEnabled('debug')),
    childLoggerFactory: (logger, bindings, options) => new LazyChildLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
    clientErrorHandler,
    // Slow clients (slowloris): Node checks these every connectionsCheckingInterval.
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // requireHostHeader: Node would answer a bodiless 400 itself; requireHost below says why.
    http: { headersTimeout: http.headersTimeoutMs, connectionsCheckingInterval: Math.min(1_000, http.headersTimeoutMs), requireHostHeader: false },
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
  installCors(app, runtime.config.corsOrigins)
  installAuth(app, runtime.config.auth)
  installGracefulClose(app)
  runtime.metrics?.installHttp(app)
  installOpenApi(app)

  // In a plugin, so that it runs after the OpenAPI plugin has loaded and sees every route.
  void app.register(async (routes) => {
    for (const register of routeModules) register(routes, runtime)
    if (runtime.config.frontendDir !== null) installFrontend(routes, runtime.config.frontendDir)
  })
  return app
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
    request.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request')
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

const CORS_EXPOSED = 'X-Cache, Age, ETag'

/** The few CORS headers a browser needs, for the origins in CORS_ORIGINS (`*` for any). */
function installCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return
  const anyOrigin = origins.includes('*')
  const allowed = new Set(origins)
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin
    if (origin === undefined) return done()
    if (!anyOrigin) reply.header('vary', 'Origin')
    if (!anyOrigin && !allowed.has(origin)) return done()
    reply.header('access-control-allow-origin', anyOrigin ? '*' : origin)
    if (!anyOrigin) reply.header('access-control-allow-credentials', 'true')
    reply.header('access-control-expose-headers', CORS_EXPOSED)
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      reply.header('access-control-allow-methods', 'GET, HEAD, POST, PUT, DELETE, OPTIONS')
      reply.header('access-control-allow-headers', request.headers['access-control-request-headers'] ?? 'Authorization, Content-Type')
      reply.header('access-control-max-age', '600')
      return reply.code(204).send()
    }
    done()
  })
}
