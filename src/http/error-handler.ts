import type { FastifyError, FastifyInstance } from 'fastify'
import { isDatabaseUnavailable } from '../db/errors.js'
import { HttpError } from './http-error.js'

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
    const fastifyError = error as FastifyError
    if (fastifyError.validation) {
      return reply.code(400).send({ detail: validationDetail(fastifyError) })
    }
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send({ detail: `Request body is larger than the ${request.routeOptions.bodyLimit ?? 1_048_576} bytes this service accepts` })
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send({ detail: `Request body is not valid JSON: ${fastifyError.message}` })
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send({ detail: `Unsupported Content-Type "${request.headers['content-type'] ?? ''}": send application/json` })
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: { message: error.message, name: error.name } }, 'database not reachable')
      return reply.code(503).send({ detail: 'The database is not reachable right now; the service keeps retrying, try again in a moment' })
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
  const part = where === 'querystring' ? 'query parameter' : where === 'body' ? 'body field' : where === 'params' ? 'path parameter' : where
  const params = first.params as Record<string, unknown>
  const field =
    (typeof params.missingProperty === 'string' && params.missingProperty) ||
    (typeof params.additionalProperty === 'string' && params.additionalProperty) ||
    first.instancePath.replace(/^\//, '').replace(/\//g, '.')
  if (!field) return `Invalid ${where === 'body' ? 'request body' : where}: ${first.message ?? 'is not valid'}`
  if (params.additionalProperty) return `Unknown ${part} "${field}"`
  if (Array.isArray(params.allowedValues)) return `Invalid ${part} "${field}": must be one of ${params.allowedValues.join(', ')}`
  return `Invalid ${part} "${field}": ${first.message ?? 'is not valid'}`
}
