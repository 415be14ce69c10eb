import type { FastifyInstance } from 'fastify'
import type { PmsMirror } from '../../features/mirror/pms-mirror.js'
import { arrayOf, int, nullable, object, str, bool } from '../../json-schema.js'
import { routeDoc } from '../openapi/schemas.js'

const counts = {
  hit: int,
  miss: int,
  coalesced: int,
  stale: int,
  pms_error: int,
  error: int,
  pass: int,
  fan_out: int,
}

const mirrorBody = object({
  enabled: bool,
  port: nullable('integer'),
  clients: object({ websocket: int, sse: int }),
  frames: int,
  patterns: arrayOf(object({ pattern: str, ...counts })),
})

/**
 * `GET /api/plex/mirror`: the PMS mirror (PLEX_PROXY_PORT) for the cache page: its port, the
 * notification clients it feeds, and its requests per path pattern and answer. Its caches
 * (`plex_mirror_*`) are listed with the others in `cache/stats`.
 */
export function mirrorRoutes(app: FastifyInstance, deps: { readonly mirror: PmsMirror | undefined }): void {
  app.get(
    '/api/plex/mirror',
    {
      schema: routeDoc('cache', 'The PMS mirror: its port, notification clients and requests per path pattern', {
        200: mirrorBody,
      }),
    },
    async () => {
      const mirror = deps.mirror
      if (mirror === undefined)
        return { enabled: false, port: null, clients: { websocket: 0, sse: 0 }, frames: 0, patterns: [] }
      return {
        enabled: true,
        port: mirror.port ?? null,
        clients: mirror.fanOut.clients,
        frames: mirror.fanOut.frames,
        patterns: mirror.stats.snapshot(),
      }
    },
  )
}
