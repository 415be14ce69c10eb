import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { PlexConnection } from '../../plex/plex-connection.js'

/** The `url` may not be fetched (host, scheme, path or a redirect): the client's 400. */
export class ImageRefusedError extends Error {
  override name = 'ImageRefusedError'
}

/** The image host failed or answered something that is not an image. */
export class ImageFetchError extends Error {
  override name = 'ImageFetchError'

  constructor(
    /** The status the proxy answers with: 404, 502 or 504. */
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface ProxiedImage {
  contentType: string
  /** The image bytes (already decoded if the host compressed them, so no Content-Length is passed on). */
  body: Readable
}

export interface ImageTarget {
  url: URL
  /** Only the configured Plex server ever sees the token. */
  toPlex: boolean
}

export interface ImageProxyOptions {
  plex: PlexConnection
  /** PLEX_TV_URL: its host counts as a plex.tv avatar host (tests point it at a local server). */
  plexTvUrl: string
  /** For the headers and the whole body. Default 10 s. */
  timeoutMs?: number
}

const MAX_REDIRECTS = 3

// Image endpoints of PMS. Anything else there (`/myplex/account`, `/accounts`, ...) is an API the
// token unlocks, and a browser must not read it through the proxy.
const PLEX_IMAGE_PATHS = ['/library/', '/photo/:/transcode', '/playlists/', '/:/resources/']

/**
 * `GET /api/plex/proxy/image?url=`: fetches an image from the configured Plex server (adding the
 * token) or from a plex.tv avatar host (`plex.tv`, `*.plex.tv`, https only), following at most
 * three redirects and only to those hosts, and passes on only `image/*` answers.
 */
export class ImageProxy {
  private readonly timeoutMs: number
  private readonly plexTv: URL

  constructor(private readonly options: ImageProxyOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.plexTv = new URL(options.plexTvUrl)
  }

  /** Where `raw` (a PMS path or an absolute URL) may be fetched from; throws ImageRefusedError otherwise. */
  target(raw: string): ImageTarget {
    const plexBase = this.plexBase()
    if (raw.startsWith('/') && !raw.startsWith('//')) {
      if (plexBase === undefined) throw new ImageRefusedError(`"url" is a Plex path, but Plex is not configured`)
      return this.check(new URL(plexBase.origin + pathPrefix(plexBase) + raw), plexBase, `"url"`)
    }
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      throw new ImageRefusedError(`"url" must be a Plex path (/library/metadata/...) or an absolute http(s) URL`)
    }
    return this.check(url, plexBase, `"url"`)
  }

  /** For a target on the Plex server: its path and query below the server's base URL (`/library/...`). */
  plexPathOf(target: ImageTarget): string | undefined {
    const plexBase = this.plexBase()
    if (!target.toPlex || plexBase === undefined) return undefined
    return target.url.pathname.slice(pathPrefix(plexBase).length) + target.url.search
  }

  /** Fetches the image; the caller streams `body` on and aborts `signal` when its client leaves. */
  async fetch(raw: string, signal?: AbortSignal): Promise<ProxiedImage> {
    let target = this.target(raw)
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.timeoutMs)
    const onClientGone = () => controller.abort()
    signal?.addEventListener('abort', onClientGone, { once: true })
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onClientGone)
    }
    try {
      for (let hop = 0; ; hop++) {
        const where = `${target.url.host}${target.url.pathname}`
        const headers: Record<string, string> = { Accept: 'image/*' }
        if (target.toPlex) headers['X-Plex-Token'] = this.options.plex.settings?.token ?? ''
        let res: Response
        try {
          res = await fetch(target.url, { headers, redirect: 'manual', signal: controller.signal })
        } catch {
          if (timedOut)
            throw new ImageFetchError(
              504,
              `Image host ${target.url.host} did not answer within ${this.timeoutMs / 1000} s`,
            )
          throw new ImageFetchError(502, `Could not reach image host ${target.url.host}`)
        }
        if (res.status >= 300 && res.status < 400) {
          const location = res.headers.get('location')
          await res.body?.cancel().catch(() => {})
          if (!location) throw new ImageFetchError(502, `${where} answered ${res.status} without a Location`)
          if (hop >= MAX_REDIRECTS) throw new ImageFetchError(502, `${where}: more than ${MAX_REDIRECTS} redirects`)
          target = this.redirectTarget(location, target.url)
          continue
        }
        if (res.status < 200 || res.status >= 300) {
          await res.body?.cancel().catch(() => {})
          if (res.status === 404) throw new ImageFetchError(404, `No image at ${where}`)
          if (res.status === 401 && target.toPlex) {
            throw new ImageFetchError(
              502,
              'Plex answered 401: the configured token is not accepted; set a valid one through POST /api/plex/config',
            )
          }
          throw new ImageFetchError(502, `${where} answered ${res.status}`)
        }
        const contentType = res.headers.get('content-type') ?? ''
        if (!/^image\//i.test(contentType) || res.body === null) {
          await res.body?.cancel().catch(() => {})
          throw new ImageFetchError(502, `${where} answered ${contentType || 'without a content type'}, not an image`)
        }
        const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)
        body.once('close', done)
        return { contentType, body }
      }
    } catch (error) {
      done()
      throw error
    }
  }

  private redirectTarget(location: string, from: URL): ImageTarget {
    let url: URL
    try {
      url = new URL(location, from)
    } catch {
      throw new ImageRefusedError(`${from.host} redirected the image to something that is not a URL`)
    }
    return this.check(url, this.plexBase(), `${from.host} redirected the image: the target`)
  }

  private check(url: URL, plexBase: URL | undefined, what: string): ImageTarget {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new ImageRefusedError(`${what} has scheme "${url.protocol}"; only http(s) images are proxied`)
    if (url.username || url.password) throw new ImageRefusedError(`${what} must not carry credentials`)
    // The token travels as a header to Plex only; one pasted into the URL is dropped.
    for (const name of [...url.searchParams.keys()])
      if (name.toLowerCase() === 'x-plex-token') url.searchParams.delete(name)
    if (plexBase !== undefined && url.origin === plexBase.origin) {
      if (!isPlexImagePath(url, plexBase)) {
        throw new ImageRefusedError(
          `${what} is Plex path "${url.pathname}", which is not an image endpoint (${PLEX_IMAGE_PATHS.join(', ')})`,
        )
      }
      return { url, toPlex: true }
    }
    if (this.isAvatarHost(url)) return { url, toPlex: false }
    throw new ImageRefusedError(
      `${what} is on host "${url.host}", which is neither the configured Plex server nor a plex.tv avatar host`,
    )
  }

  private isAvatarHost(url: URL): boolean {
    if (url.origin === this.plexTv.origin) return true
    const host = url.hostname.toLowerCase()
    return url.protocol === 'https:' && (host === 'plex.tv' || host.endsWith('.plex.tv'))
  }

  private plexBase(): URL | undefined {
    const settings = this.options.plex.settings
    return settings === undefined ? undefined : new URL(settings.url)
  }
}

function isPlexImagePath(url: URL, plexBase: URL): boolean {
  const prefix = pathPrefix(plexBase)
  const path = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : ''
  return PLEX_IMAGE_PATHS.some((start) => path.startsWith(start))
}

/** A PMS behind a reverse proxy may live under a path (`https://host/plex`). */
function pathPrefix(base: URL): string {
  return base.pathname.replace(/\/+$/, '')
}
