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
import { registerLoginMetrics } from '../metrics/login-metrics.js'
import type { Runtime } from '../runtime.js'
import { createCallerCheck, createFastCaller, installAuth } from './auth.js'
import { CorsPolicy, installCors } from './cors.js'
import { installGracefulClose } from './drain.js'
import { clientErrorHandler, expectationFailed, frameworkErrors, installErrorHandling } from './error-handler.js'
import { FastHits } from './fast-hits.js'
import { installFrontend } from './frontend.js'
import { LoginLimits } from './login-limits.js'
import { installOpenApi } from './openapi/install.js'
import { routeModules } from './routes/index.js'
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

/** The HTTP face of the service: hooks once, then every route module of routes/index.ts. */
export function buildApp(runtime: Runtime): FastifyInstance {
  const cors = new CorsPolicy(runtime.config.corsOrigins)
  const limits = loginLimits(runtime)
  const callers = createCallerCheck(runtime.config.auth, runtime.viewers, limits)
  // At debug level every request is logged, by Fastify: then every request goes through it.
  const metrics = runtime.metrics
  const fastHits = runtime.logger.isLevelEnabled('debug')
    ? undefined
    : new FastHits(
        createFastCaller(runtime.config.auth, callers),
        cors,
        metrics && ((path) => metrics.http.cellsFor('GET', path, 200)),
      )
  const timeouts = runtime.config.http
  const app = Fastify({
    serverFactory: (handler, options) => createServer(handler, options, fastHits),
    // Typed as Fastify's base logger so route modules take a plain FastifyInstance.
    loggerInstance: runtime.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new QuietRequestLog(runtime.logger.isLevelEnabled('debug')),
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
  installAuth(app, runtime.config.auth, callers)
  // Before the drain's own hook (hooks run in order, and it waits for quiet): from the moment
  // close() begins every request goes through Fastify, which answers it with `Connection: close`.
  app.addHook('preClose', async () => fastHits?.close())
  installGracefulClose(app)
  app.decorate('fastHits', fastHits)
  app.decorate('loginLimits', limits)
  runtime.metrics?.installHttp(app)
  installOpenApi(app)

  // In a plugin, so that it runs after the OpenAPI plugin has loaded and sees every route.
  void app.register(async (routes) => {
    for (const register of routeModules) register(routes, runtime)
    if (runtime.config.frontendDir !== null) installFrontend(routes, runtime.config.frontendDir)
  })
  return app
}

/** The bounds on failed sign-ins (auth on), counted in `/metrics`. */
function loginLimits(runtime: Runtime): LoginLimits | undefined {
  if (!runtime.config.auth.enabled) return undefined
  const limits = new LoginLimits(runtime.config.limits.login, runtime.clock)
  runtime.viewers.onCreated(() => limits.forgetFailures())
  if (runtime.metrics) registerLoginMetrics(runtime.metrics.registry, () => limits.counts)
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
