import type { FastifyInstance } from 'fastify'
import { ImageFetchError, ImageRefusedError, type ProxiedImage } from '../../features/plex/image-proxy.js'
import type { Runtime } from '../../runtime.js'
import { publicRoute } from '../auth.js'
import { badRequest, HttpError } from '../http-error.js'

const imageQuery = {
  type: 'object',
  required: ['url'],
  properties: { url: { type: 'string', minLength: 1, maxLength: 4096 } },
} as const

/** `GET /api/plex/proxy/image?url=`: see features/plex/image-proxy.ts for what may be fetched. */
export function imageProxyRoutes(app: FastifyInstance, runtime: Runtime): void {
  const images = runtime.images

  app.get<{ Querystring: { url: string } }>('/api/plex/proxy/image', { config: publicRoute, schema: { querystring: imageQuery } }, async (request, reply) => {
    const clientGone = new AbortController()
    reply.raw.once('close', () => clientGone.abort())
    let image: ProxiedImage
    try {
      image = await images.fetch(request.query.url, clientGone.signal)
    } catch (error) {
      if (error instanceof ImageRefusedError) throw badRequest(`Refused to proxy this image: ${error.message}`)
      if (error instanceof ImageFetchError) throw new HttpError(error.status, error.message)
      throw error
    }
    return reply
      .header('content-type', image.contentType)
      .header('cache-control', 'public, max-age=86400')
      .header('x-content-type-options', 'nosniff')
      // An SVG opened directly must not run script on this origin.
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
      .send(image.body)
  })
}
