import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { VERSION } from '../../version.js'

const DESCRIPTION = [
  "Komandorr's HTTP contract on a cache in front of Plex Media Server.",
  'Cached GETs answer with `X-Cache` (HIT, MISS, STALE), `Age` and `ETag` (`If-None-Match` → 304); object bodies',
  'carry `cached`, `cache_age`, `timestamp` and, past the TTL, `stale: true`. Errors are `{detail}`.',
  'With ENABLE_AUTH every route needs HTTP Basic credentials, except the GETs marked public.',
  'Also served: `/metrics` (Prometheus), `/cache` (live cache page).',
].join(' ')

/**
 * `/openapi.json` (OpenAPI 3.1, generated from the route schemas) and Swagger UI at `/docs`, its
 * assets served from the package (no CDN). Register before the routes so every one is seen.
 *
 * Response schemas document the answers; they never serialize them: Fastify would otherwise
 * compile them into serializers that drop any field a schema does not list. Cached answers are
 * strings made at fill time and were never serialized again anyway.
 */
export function installOpenApi(app: FastifyInstance): void {
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'komandorr-cache', version: VERSION, description: DESCRIPTION },
      components: {
        securitySchemes: {
          basic: {
            type: 'http',
            scheme: 'basic',
            description: 'AUTH_USERNAME / AUTH_PASSWORD, when ENABLE_AUTH is on',
          },
        },
      },
      security: [{ basic: [] }],
    },
  })
  // Swagger UI sets a few inline styles itself; its scripts stay 'self' only.
  void app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: { 'style-src': ["'self'", "'unsafe-inline'"] },
    uiConfig: { docExpansion: 'list', deepLinking: true },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
