import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import { isDatabaseUnavailable } from '../db/errors.js'
import { ThrottledError } from '../features/throttle.js'
import { isPlexError } from '../plex/errors.js'
import { HttpError } from './http-error.js'
import { NOT_FINITE } from './validation.js'

/**
 * The one place that shapes errors: every error is JSON `{detail}`, bad input is a 4xx that
 * names what was wrong, and nothing (no stack, no internal message) leaks from a 5xx.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]
    void reply.code(404).send({ detail: `Not found: ${request.method} ${path} is not a route of this service` })
  })

  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send({ detail: error.detail, ...error.extra })
    }
    if (error instanceof ThrottledError) {
      const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000))
      const detail = `${error.message}; try again in ${seconds} s`
      return reply.code(429).header('retry-after', String(seconds)).send({ detail, message: detail })
    }
    const fastifyError = error as FastifyError
    if (fastifyError.validation) {
      return reply.code(400).send({ detail: validationDetail(fastifyError) })
    }
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send({
          detail: `Request body is larger than the ${request.routeOptions.bodyLimit ?? 1_048_576} bytes this service accepts`,
        })
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send({ detail: `Request body is not valid JSON: ${fastifyError.message}` })
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send({
          detail: `Unsupported Content-Type "${request.headers['content-type'] ?? ''}": send application/json`,
        })
    }
    if (!isPlexError(error) && isDatabaseUnavailable(error)) {
      request.log.warn({ err: { message: error.message, name: error.name } }, 'database not reachable')
      return reply
        .code(503)
        .send({ detail: 'The database is not reachable right now; the service keeps retrying, try again in a moment' })
    }
    const status = fastifyError.statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ detail: fastifyError.message })
    }
    request.log.error({ err: { message: error.message, name: error.name } }, 'unhandled error')
    return reply.code(500).send({ detail: 'Internal error: the service failed to answer this request; see its log' })
  })
}

/** `querystring/limit must be <= 5000` → `Invalid query parameter "limit": must be <= 5000`. */
function validationDetail(error: FastifyError): string {
  const first = error.validation?.[0]
  if (!first) return error.message
  const where = error.validationContext ?? 'request'
  const part =
    where === 'querystring'
      ? 'query parameter'
      : where === 'body'
        ? 'body field'
        : where === 'params'
          ? 'path parameter'
          : where
  const params = first.params as Record<string, unknown>
  const field =
    (typeof params.missingProperty === 'string' && params.missingProperty) ||
    (typeof params.additionalProperty === 'string' && params.additionalProperty) ||
    first.instancePath.replace(/^\//, '').replace(/\//g, '.')
  if (!field) return `Invalid ${where === 'body' ? 'request body' : where}: ${first.message ?? 'is not valid'}`
  if (params.additionalProperty) return `Unknown ${part} "${field}"`
  if (Array.isArray(params.allowedValues))
    return `Invalid ${part} "${field}": must be one of ${params.allowedValues.join(', ')}`
  // JSON 1e400 parses to Infinity: "must be integer" would puzzle whoever sent a number.
  const value = (first as { data?: unknown }).data
  if (typeof value === 'number' && !Number.isFinite(value)) return `Invalid ${part} "${field}": ${NOT_FINITE}`
  return `Invalid ${part} "${field}": ${first.message ?? 'is not valid'}`
}

/**
 * Fastify's `frameworkErrors`: a request its router refuses before any route runs (a path that
 * does not percent-decode, a path parameter over the length limit) gets `{detail, message}`.
 */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => {
  const path = request.url.split('?')[0]!.slice(0, 200)
  const [status, detail] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, `The path ${path} has a segment longer than this service accepts`]
      : error.code === 'FST_ERR_BAD_URL'
        ? [400, `The path ${path} is not a valid URL: it has bad percent-encoding`]
        : [error.statusCode ?? 400, error.message]
  void reply.code(status).send({ detail, message: detail })
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (bad request line or headers,
 * headers too large, a request not whole in time) is answered on the raw socket; this is
 * Fastify's default answer with `detail` beside `message`.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request did not arrive whole in time: send the headers and the body without pausing']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request line and headers are larger than this service accepts (16 KiB)']
        : error.code === 'HPE_PAUSED_H2_UPGRADE'
          ? [400, 'HTTP/2 is not served here: send HTTP/1.1']
          : [400, `The request is not valid HTTP/1.1 (${(error.code ?? 'parse error').replace(/^HPE_/, '')})`]
  if (socket.writable) {
    const body = JSON.stringify({ detail, message: detail })
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}

/** Node's `checkExpectation`: an `Expect` other than 100-continue, which Node answers with a bodiless 417. */
export function expectationFailed(request: IncomingMessage, response: ServerResponse): void {
  const detail = `Expect: ${String(request.headers.expect).slice(0, 100)} is not supported: send the request without it (or with Expect: 100-continue)`
  const body = JSON.stringify({ detail, message: detail })
  response
    .writeHead(417, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    })
    .end(body)
}
