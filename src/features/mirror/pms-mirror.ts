// The service as the PMS that Plex tools are pointed at (PLEX_PROXY_PORT): a plain node HTTP
// server with a small router, since a cached answer should cost well under a millisecond.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Registry } from 'prom-client'
import type { Cache, CacheEntry, CacheRead } from '../../cache/index.js'
import type { Logger } from '../../logger.js'
import type { PlexConnection } from '../../plex/plex-connection.js'
import type { CacheLookup, PlexChange } from '../caches/declaration.js'
import { mirrorHistoryCache, mirrorLibraryCache, mirrorLiveCache, mirrorServerCache } from '../caches/mirror.js'
import type { PlexImages } from '../plex/plex-images.js'
import type { NotificationTap } from '../plex/push-invalidation.js'
import { NotificationFanOut } from './fan-out.js'
import { MirrorStats } from './mirror-stats.js'
import { badGateway, passThrough, passUpgrade } from './pass-through.js'
import { NotCacheableError, PmsAnswerError, type MirrorRequest, type PmsAnswer } from './pms-answer.js'
import { mirrorRequestOf, parseQuery, ServerToken, tokenOf, type Asked } from './request.js'
import {
  EVENTSOURCE_PATH,
  groupsChangedBy,
  NOTIFICATIONS,
  PASS_THROUGH,
  routeOf,
  WEBSOCKET_PATH,
  type CachedPattern,
  type ImagePattern,
  type MirrorGroup,
} from './routes.js'

export interface PmsMirrorDeps {
  readonly plex: PlexConnection
  readonly cache: CacheLookup
  readonly images: PlexImages
  /** The service's one notification stream (`PushInvalidation.tap`). */
  readonly notifications: { tap(tap: NotificationTap): () => void }
  readonly logger: Logger
  /** `/metrics`'s registry, when metrics are on. */
  readonly metrics?: Registry
}

type GroupCache = Cache<PmsAnswer, MirrorRequest>

/** An answer ready to write: the body's bytes and the headers, made once per cache entry. */
interface Prepared {
  readonly body: Buffer
  readonly headers: Record<string, string | number>
}

const X_CACHE: Record<CacheRead<unknown>['outcome'], string> = {
  hit: 'HIT',
  miss: 'MISS',
  coalesced: 'MISS',
  stale: 'STALE',
}

export class PmsMirror {
  readonly stats: MirrorStats
  readonly fanOut = new NotificationFanOut()
  private readonly groups: Readonly<Record<MirrorGroup, GroupCache>>
  private readonly token = new ServerToken()
  private readonly prepared = new WeakMap<PmsAnswer, Prepared>()
  private readonly untap: () => void
  private server: Server | undefined

  constructor(private readonly deps: PmsMirrorDeps) {
    this.stats = new MirrorStats(deps.metrics)
    this.groups = {
      live: deps.cache(mirrorLiveCache),
      history: deps.cache(mirrorHistoryCache),
      library: deps.cache(mirrorLibraryCache),
      server: deps.cache(mirrorServerCache),
    }
    this.untap = deps.notifications.tap({
      frame: (frame) => this.fanOut.send(frame),
      change: (change) => this.drop(groupsChangedByNotification(change)),
      missed: () => this.drop(['live', 'history', 'library']),
    })
    deps.plex.answerFrom((url, headers, signal) => this.answerFor(url, headers, signal))
  }

  /**
   * The service's own caches ask here before PMS: a GET the mirror would cache (same path, query,
   * format and paging) is read through the mirror's cache, so one PMS load serves the tools and
   * the caches that parse the same answer. History pages are left out: the watch-history sync
   * asks each page once.
   */
  private answerFor(
    url: URL,
    headers: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<Response | undefined> | undefined {
    const settings = this.deps.plex.settings
    if (settings === undefined || headers['X-Plex-Token'] !== settings.token) return undefined
    const base = new URL(settings.url)
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname.replace(/\/+$/, ''))) return undefined
    const path = url.pathname.slice(base.pathname.replace(/\/+$/, '').length)
    const route = routeOf(path)
    if (route?.kind !== 'cached' || route.group === 'history') return undefined
    const request = mirrorRequestOf(
      {
        accept: headers.Accept,
        start: headers['X-Plex-Container-Start'],
        size: headers['X-Plex-Container-Size'],
      },
      path,
      parseQuery(url.search.slice(1)),
    )
    if (request === undefined) return undefined
    const read = this.groups[route.group].read(request)
    // The caller's deadline still applies: the read goes on for the tools, the caller stops waiting.
    return new Promise<Response | undefined>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error)
      signal.addEventListener('abort', onAbort, { once: true })
      read
        .then(
          // A stale answer (PMS failing, or slow past the soft timeout) is not the caller's to
          // store as fresh: it asks PMS itself, and serves its own stale value if that fails.
          ({ entry, outcome }) => (outcome === 'stale' ? undefined : pmsResponse(entry.value)),
          (error: unknown) => {
            if (error instanceof PmsAnswerError) return pmsResponse(error.answer)
            if (error instanceof NotCacheableError) return undefined
            throw error
          },
        )
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** The port it listens on; undefined before `listen`. */
  get port(): number | undefined {
    const address = this.server?.address()
    return typeof address === 'object' && address !== null ? address.port : undefined
  }

  /** Listens on `port` (0: any free one); resolves the port. */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res))
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head))
    // Media streams and downloads run as long as they run.
    server.requestTimeout = 0
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return (server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    this.deps.plex.answerFrom(undefined)
    this.untap()
    this.fanOut.close()
    const server = this.server
    if (server === undefined) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
      setTimeout(() => server.closeAllConnections(), 2_000).unref()
    })
  }

  private base(): URL | undefined {
    const settings = this.deps.plex.settings
    return settings === undefined ? undefined : new URL(settings.url)
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const base = this.base()
    if (base === undefined) return void this.notConfigured(res, startedAt)
    const read = req.method === 'GET' || req.method === 'HEAD'
    const route = read ? routeOf(path) : undefined
    const isStream = read && path === EVENTSOURCE_PATH
    if (route === undefined && !isStream) return this.pass(base, req, res, path, startedAt)
    const query = parseQuery(q < 0 ? '' : url.slice(q + 1))
    if (!this.token.matches(tokenOf(req, query), this.deps.plex.settings?.token))
      return this.pass(base, req, res, path, startedAt, route?.name ?? NOTIFICATIONS)
    if (isStream) {
      this.fanOut.acceptEventSource(res)
      return this.stats.count(NOTIFICATIONS, 'fan_out', startedAt)
    }
    if (route!.kind === 'image') return void this.image(base, route!, req, res, path, url, startedAt)
    const request = mirrorRequestOf(askedOf(req), path, query)
    if (request === undefined) return this.pass(base, req, res, path, startedAt, route!.name)
    this.cached(base, route as CachedPattern, request, req, res, startedAt)
  }

  private cached(
    base: URL,
    route: CachedPattern,
    request: MirrorRequest,
    req: IncomingMessage,
    res: ServerResponse,
    startedAt: number,
  ): void {
    const cache = this.groups[route.group]
    const entry = cache.peek(request)
    if (entry !== undefined) {
      this.answer(req, res, entry, 'HIT')
      return this.stats.count(route.name, 'hit', startedAt)
    }
    cache.read(request).then(
      (read) => {
        this.answer(req, res, read.entry, X_CACHE[read.outcome])
        this.stats.count(route.name, read.outcome, startedAt)
      },
      (error: unknown) => {
        if (error instanceof PmsAnswerError) {
          this.replay(req, res, error.answer)
          return this.stats.count(route.name, 'pms_error', startedAt)
        }
        if (error instanceof NotCacheableError) return this.pass(base, req, res, req.url ?? '/', startedAt, route.name)
        this.deps.logger.warn({ err: error, pattern: route.name }, 'PMS mirror: no answer to give')
        badGateway(res, 'the Plex Media Server did not answer and nothing is cached for this request')
        this.stats.count(route.name, 'error', startedAt)
      },
    )
  }

  private answer(req: IncomingMessage, res: ServerResponse, entry: CacheEntry<PmsAnswer>, xCache: string): void {
    let prepared = this.prepared.get(entry.value)
    if (prepared === undefined) {
      prepared = prepare(entry.value)
      this.prepared.set(entry.value, prepared)
    }
    res.setHeader('x-cache', xCache)
    res.writeHead(200, prepared.headers)
    res.end(req.method === 'HEAD' ? undefined : prepared.body)
  }

  private replay(req: IncomingMessage, res: ServerResponse, answer: PmsAnswer): void {
    const prepared = prepare(answer)
    res.writeHead(answer.status, prepared.headers)
    res.end(req.method === 'HEAD' ? undefined : prepared.body)
  }

  private async image(
    base: URL,
    route: ImagePattern,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    url: string,
    startedAt: number,
  ): Promise<void> {
    const q = url.indexOf('?')
    const kept = q < 0 ? '' : parseQuery(url.slice(q + 1)).kept
    try {
      const { entry, outcome } = await this.deps.images.read(this.deps.images.request(kept ? `${path}?${kept}` : path))
      res.writeHead(200, {
        'content-type': entry.contentType,
        'content-length': entry.body.length,
        etag: entry.etag,
        'x-cache': X_CACHE[outcome],
      })
      res.end(req.method === 'HEAD' ? undefined : entry.body)
      this.stats.count(route.name, outcome, startedAt)
    } catch {
      // PMS's own answer (a 404, a non-image) rather than the image proxy's.
      this.pass(base, req, res, path, startedAt, route.name)
    }
  }

  private pass(
    base: URL,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    startedAt: number,
    pattern = PASS_THROUGH,
  ): void {
    const write = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS'
    passThrough(base, req, res, (status) => {
      this.stats.count(pattern, 'pass', startedAt)
      if (write && status < 400) this.drop(groupsChangedBy(path))
    })
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const base = this.base()
    if (base === undefined) return void socket.destroy()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const startedAt = performance.now()
    const ownToken = this.token.matches(
      tokenOf(req, parseQuery(q < 0 ? '' : url.slice(q + 1))),
      this.deps.plex.settings?.token,
    )
    if (path === WEBSOCKET_PATH && ownToken) {
      this.fanOut.acceptWebSocket(req, socket, head)
      return this.stats.count(NOTIFICATIONS, 'fan_out', startedAt)
    }
    passUpgrade(base, req, socket, head)
    this.stats.count(path === WEBSOCKET_PATH ? NOTIFICATIONS : PASS_THROUGH, 'pass', startedAt)
  }

  private notConfigured(res: ServerResponse, startedAt: number): void {
    const body = 'Plex is not configured: set PLEX_SERVER_URL and PLEX_SERVER_TOKEN, or POST /api/plex/config\n'
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    res.end(body)
    this.stats.count(PASS_THROUGH, 'error', startedAt)
  }

  /** Drops every answer of `groups` (here, in the shared layer and on other instances). */
  private drop(groups: readonly MirrorGroup[]): void {
    for (const group of groups) {
      this.groups[group].clear().catch((error: unknown) => {
        this.deps.logger.warn({ err: error, group }, 'PMS mirror: a cache group could not be dropped')
      })
    }
  }
}

function pmsResponse(answer: PmsAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.type } })
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function askedOf(req: IncomingMessage): Asked {
  return {
    accept: header(req, 'accept'),
    start: header(req, 'x-plex-container-start'),
    size: header(req, 'x-plex-container-size'),
  }
}

function prepare(answer: PmsAnswer): Prepared {
  const body = Buffer.from(answer.body, 'utf8')
  const headers: Record<string, string | number> = { ...answer.headers, 'content-length': body.length }
  if (answer.type !== '') headers['content-type'] = answer.type
  return { body, headers }
}

/** The groups whose answers a notification says changed. */
function groupsChangedByNotification(change: PlexChange): readonly MirrorGroup[] {
  switch (change.name) {
    case 'playing':
      return []
    case 'playing.state':
      // A stop lands in the history and changes on deck and the item's view state.
      return change.items.some((item) => item.state === 'stopped') ? ['live', 'history', 'library'] : ['live']
    // Progress reports (a transcode's, an activity's, a player's) change only fields a poller
    // sees again within the TTL; a start or an end changes what is listed.
    case 'transcodeSession.update':
      return []
    case 'transcodeSession.start':
    case 'transcodeSession.end':
      return ['live']
    case 'activity':
      return change.items.some((item) => item.event !== 'updated') ? ['live'] : []
    case 'timeline.library':
      return ['library', 'history']
  }
}

/** Starts the mirror on `port`; resolves once it listens. */
export async function startPmsMirror(
  deps: PmsMirrorDeps,
  options: { readonly port: number; readonly host: string },
): Promise<{ readonly mirror: PmsMirror; readonly port: number }> {
  const mirror = new PmsMirror(deps)
  try {
    return { mirror, port: await mirror.listen(options.port, options.host) }
  } catch (error) {
    await mirror.close()
    throw error
  }
}
