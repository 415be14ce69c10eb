import type { FastifyInstance } from 'fastify'
import { ImageFetchError, ImageRefusedError } from '../../features/plex/image-proxy.js'
import { IMAGE_SIDE_MAX, type ImageRequest, type PlexImages } from '../../features/plex/plex-images.js'
import type { BlobRead } from '../../cache/blob/index.js'
import { publicRoute } from '../auth.js'
import { badRequest, HttpError } from '../http-error.js'
import { imageBody, routeDoc } from '../openapi/schemas.js'

const side = { type: 'integer', minimum: 1, maximum: IMAGE_SIDE_MAX } as const
const imageQuery = {
  type: 'object',
  required: ['url'],
  properties: { url: { type: 'string', minLength: 1, maxLength: 4096 }, width: side, height: side },
  dependencies: { width: ['height'], height: ['width'] },
} as const

interface ImageQuery {
  url: string
  width?: number
  height?: number
}

const X_CACHE = { hit: 'HIT', miss: 'MISS', coalesced: 'MISS', stale: 'STALE' } as const
const IMMUTABLE = 'public, max-age=31536000, immutable'
const ONE_DAY = 'public, max-age=86400'
// An SVG opened directly must not run script on this origin.
const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

/**
 * `GET /api/plex/proxy/image?url=[&width=&height=]`: the `plex_images` cache (features/plex/plex-images.ts)
 * in front of the proxy (features/plex/image-proxy.ts says what may be fetched). A versioned Plex path
 * is answered as immutable; every answer has a strong ETag and a matching If-None-Match gets 304.
 */
export function imageProxyRoutes(app: FastifyInstance, deps: { images: PlexImages }): void {
  const images = deps.images

  const schema = routeDoc(
    'plex',
    'A Plex image through the plex_images cache (the token added only for the Plex server itself)',
    { 200: imageBody },
    { querystring: imageQuery },
  )
  app.get<{ Querystring: ImageQuery }>(
    '/api/plex/proxy/image',
    { config: publicRoute, schema },
    async (request, reply) => {
      const { url, width, height } = request.query
      let image: ImageRequest
      let read: BlobRead
      try {
        image = images.request(url, width === undefined || height === undefined ? undefined : { width, height })
        read = await images.read(image)
      } catch (error) {
        if (error instanceof ImageRefusedError) throw badRequest(`Refused to proxy this image: ${error.message}`)
        if (error instanceof ImageFetchError) throw new HttpError(error.status, error.message)
        throw error
      }
      const { entry } = read
      reply
        .header('etag', entry.etag)
        .header('cache-control', image.versioned ? IMMUTABLE : ONE_DAY)
        .header('x-cache', X_CACHE[read.outcome])
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', IMAGE_CSP)
      if (request.headers['if-none-match'] === entry.etag) return reply.code(304).send()
      return reply.header('content-type', entry.contentType).send(entry.body)
    },
  )
}
