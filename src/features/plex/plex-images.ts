import { hash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { BlobCache, type BlobRead } from '../../cache/blob/index.js'
import type { CacheLogger, CacheRegistry, Clock } from '../../cache/index.js'
import type { Config } from '../../config.js'
import { ImageFetchError, ImageRefusedError, type ImageProxy } from './image-proxy.js'

/** An unversioned image (an avatar) is fresh this long; a versioned one forever. */
export const UNVERSIONED_IMAGE_TTL_MS = 86_400_000
/** Bounds of `?width=&height=` (PMS's photo transcoder): a 4K background is the largest a dashboard draws. */
export const IMAGE_SIDE_MAX = 3840

/** One image as the cache sees it: what to fetch, under which key, and whether it can change. */
export interface ImageRequest {
  /** What the proxy fetches: the client's URL, or PMS's transcoder for a resized image. */
  readonly fetchUrl: string
  /** sha256 of the Plex server's origin, the path and the size: never the token. */
  readonly key: string
  /** A Plex path ending in a version (`/thumb/<updatedAt>`): the bytes never change. */
  readonly versioned: boolean
}

export interface ImageSize {
  readonly width: number
  readonly height: number
}

// A PMS image path that ends in the item's `updatedAt`: a new image gets a new path.
const VERSIONED_PLEX_PATH =
  /^\/library\/(metadata\/\d+\/(thumb|art|banner|theme|clearLogo)|sections\/\d+\/composite)\/\d+$/

/**
 * `plex_images`: the bytes of every poster, background and avatar the dashboards show, in a
 * memory tier (IMAGE_CACHE_MEMORY_BYTES) and a disk tier (IMAGE_CACHE_DIR, IMAGE_CACHE_MAX_BYTES)
 * with IMAGE_CACHE_EVICTION, one load per image however many browsers ask at once. Versioned Plex
 * paths are immutable; anything else is fresh for a day and served stale while its host fails.
 * The key holds the server's origin, so another Plex server never gets this one's images (and a
 * config change needs no clear). Listed in the registry: stats, clear and warm cover it.
 */
export class PlexImages {
  readonly cache: BlobCache<ImageRequest>

  constructor(
    private readonly proxy: ImageProxy,
    options: {
      readonly config: Config
      readonly registry: CacheRegistry
      readonly clock: Clock
      readonly logger?: CacheLogger
    },
  ) {
    const { images } = options.config
    const maxImageBytes = images.maxImageBytes
    this.cache = options.registry.attach(
      new BlobCache<ImageRequest>(
        {
          name: 'plex_images',
          key: 'plex:images',
          keyOf: (request) => request.key,
          ttlMs: UNVERSIONED_IMAGE_TTL_MS,
          freshForMs: (request) => (request.versioned ? Infinity : UNVERSIONED_IMAGE_TTL_MS),
          load: async (request, signal) => {
            const image = await proxy.fetch(request.fetchUrl, signal)
            return { contentType: image.contentType, body: await readAtMost(image.body, maxImageBytes) }
          },
          memory: { maxBytes: images.memoryBytes, eviction: images.eviction },
          disk:
            images.dir === null
              ? undefined
              : { dir: images.dir, maxBytes: images.diskBytes, eviction: images.eviction },
        },
        { clock: options.clock, logger: options.logger },
      ),
    )
  }

  /** Checks `url` (and the size) as the proxy does; throws ImageRefusedError for what it refuses. */
  request(url: string, size?: ImageSize): ImageRequest {
    const target = this.proxy.target(url)
    const plexPath = this.proxy.plexPathOf(target)
    const sizeKey = size === undefined ? '' : `${size.width}x${size.height}`
    const key = hash('sha256', `${target.url.origin}${target.url.pathname}${target.url.search}|${sizeKey}`, 'base64url')
    if (size === undefined) {
      return { fetchUrl: target.url.href, key, versioned: plexPath !== undefined && VERSIONED_PLEX_PATH.test(plexPath) }
    }
    if (plexPath === undefined)
      throw new ImageRefusedError('"width" and "height" resize Plex images only; this URL is not on the Plex server')
    if (plexPath.startsWith('/photo/:/transcode'))
      throw new ImageRefusedError('"url" is already a transcoder URL; give the size there or here, not both')
    const query = new URLSearchParams({
      width: String(size.width),
      height: String(size.height),
      minSize: '1',
      upscale: '0',
      url: plexPath,
    })
    return { fetchUrl: `/photo/:/transcode?${query}`, key, versioned: VERSIONED_PLEX_PATH.test(plexPath) }
  }

  read(request: ImageRequest): Promise<BlobRead> {
    return this.cache.read(request)
  }
}

/** The stream's bytes; a body over `maxBytes` is abandoned and refused (never cached). */
async function readAtMost(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > maxBytes) {
      body.destroy()
      throw new ImageFetchError(502, `The image is larger than IMAGE_MAX_BYTES (${maxBytes} bytes); it is not proxied`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, total)
}
