// The typed Plex Media Server client: one method per endpoint the service uses, each with its parser in parse/.
// Every method takes an optional AbortSignal and rejects only with PlexError subclasses.
import { createHash } from 'node:crypto'
import os from 'node:os'
import { VERSION } from '../version.js'
import { DEFAULT_MAX_RESPONSE_BYTES } from './body.js'
import type { Fields } from './coerce.js'
import { PlexHttpError } from './errors.js'
import { PlexHttp, rejectFailure, type PlexAnswerSource, type PlexCallObserver } from './http.js'
import { pagesOf, pagingHeaders, type FetchedPage } from './paging.js'
import { parseActivities } from './parse/activities.js'
import { parseHistoryRows } from './parse/history.js'
import { parseLibraryItems, parseLibrarySections } from './parse/library.js'
import { parseSessions, parseTranscodeSessions } from './parse/sessions.js'
import { parseAccounts, parseIdentity, parseServerInfo } from './parse/server.js'
import { parseSharedServers } from './parse/shared-servers.js'
import type {
  Account,
  Activity,
  HistoryPage,
  LibraryItem,
  LibraryItemPage,
  LibrarySection,
  PlaybackSession,
  PlexImage,
  ServerIdentity,
  ServerInfo,
  SharedServer,
  TranscodeSession,
} from './types.js'

export interface PlexClientOptions {
  /** e.g. `http://127.0.0.1:32400` (a trailing slash is tolerated). */
  baseUrl: string
  token: string
  /** Default `https://plex.tv`; tests point it at the simulator. */
  plexTvUrl?: string
  /** Stable id sent as X-Plex-Client-Identifier; default derived from the host name. */
  clientIdentifier?: string
  /** X-Plex-Product, default `komandorr-cache`. */
  product?: string
  /** Deadline per request (headers and body), default 10 000 ms. */
  timeoutMs?: number
  /** Sent with every request, e.g. `X-Recorded-Variant` in tests. */
  extraHeaders?: Record<string, string>
  /** Largest reply body read (PLEX_MAX_RESPONSE_BYTES), default 64 MiB; past it the request is cut off. */
  maxResponseBytes?: number
  /** ratingKeys per `/library/metadata/a,b,c` request, default 50. */
  metadataBatchSize?: number
  /** Told of every request when it ends, by route pattern and outcome (metrics). */
  observe?: PlexCallObserver
  /** Asked before PMS for every request to it (the PMS mirror's caches). */
  answers?: PlexAnswerSource
}

export interface HistoryQuery {
  /** Only rows with `viewedAt >= since` (unix s). */
  since?: number
  accountId?: number
  sectionId?: number
  /** Rows per request, default 1000. */
  pageSize?: number
}

export interface SectionItemsQuery {
  /** PMS type id (PlexTypeId), e.g. 1 movies, 2 shows, 4 episodes. */
  type?: number
  /** Items per request, default 500. */
  pageSize?: number
}

export interface PlexClient {
  readonly baseUrl: string
  /** `GET /` */
  serverInfo(signal?: AbortSignal): Promise<ServerInfo>
  /** `GET /identity` */
  identity(signal?: AbortSignal): Promise<ServerIdentity>
  /** `GET /accounts` */
  accounts(signal?: AbortSignal): Promise<Account[]>
  /** `GET /library/sections` */
  librarySections(signal?: AbortSignal): Promise<LibrarySection[]>
  /** Count of items of `typeId` in a section (`/all?type=N` with Size 0 → totalSize). */
  sectionTotal(sectionId: number, typeId: number, signal?: AbortSignal): Promise<number>
  /** Every item of a section, page by page (`/library/sections/{id}/all`). */
  sectionItems(sectionId: number, query?: SectionItemsQuery, signal?: AbortSignal): AsyncGenerator<LibraryItemPage>
  /** Newest items of one section, at most `size` (default 50). */
  sectionRecentlyAdded(sectionId: number, opts?: { size?: number }, signal?: AbortSignal): Promise<LibraryItem[]>
  /** Newest items across sections (episodes grouped into seasons, tracks into albums), at most `size`. */
  recentlyAdded(opts?: { size?: number }, signal?: AbortSignal): Promise<LibraryItem[]>
  /** `GET /status/sessions` (admin token). */
  sessions(signal?: AbortSignal): Promise<PlaybackSession[]>
  /** `GET /transcode/sessions`: the transcodes running now (admin token). */
  transcodeSessions(signal?: AbortSignal): Promise<TranscodeSession[]>
  /** `GET /activities` */
  activities(signal?: AbortSignal): Promise<Activity[]>
  /** Watch history, newest first, page by page; `since` makes it incremental. */
  history(query?: HistoryQuery, signal?: AbortSignal): AsyncGenerator<HistoryPage>
  /** Full items for many ratingKeys, fetched in comma-separated batches; unknown keys are left out. */
  metadata(ratingKeys: readonly string[], signal?: AbortSignal): Promise<LibraryItem[]>
  /** plex.tv: the users this server is shared with. */
  sharedServers(machineIdentifier: string, signal?: AbortSignal): Promise<SharedServer[]>
  /**
   * An image for a proxy: a PMS path (`/library/metadata/1/thumb/2`) or an absolute URL. The token
   * is sent only to the PMS itself. Rejects on 401 and transport failures; any other status is
   * returned as is.
   */
  fetchImage(pathOrUrl: string, signal?: AbortSignal): Promise<PlexImage>
}

function defaultClientIdentifier(): string {
  return `komandorr-cache-${createHash('sha256').update(os.hostname()).digest('hex').slice(0, 16)}`
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

function queryString(params: Record<string, string | number | undefined>): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(params))
    if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  return parts.length ? `?${parts.join('&')}` : ''
}

function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} ${value} is not a non-negative integer`)
  return value
}

const MAX_IMAGE_REDIRECTS = 3

const SECTION_ALL = '/library/sections/{id}/all'

export function createPlexClient(opts: PlexClientOptions): PlexClient {
  const baseUrl = withoutTrailingSlash(opts.baseUrl)
  const base = new URL(baseUrl)
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new TypeError(`Plex baseUrl "${baseUrl}" is not an http(s) URL`)
  const plexTvUrl = withoutTrailingSlash(opts.plexTvUrl ?? 'https://plex.tv')
  const product = opts.product ?? 'komandorr-cache'
  const timeoutMs = opts.timeoutMs ?? 10_000
  const batchSize = opts.metadataBatchSize ?? 50
  const http = new PlexHttp({
    token: opts.token,
    timeoutMs,
    maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    observe: opts.observe,
    answers: opts.answers,
    headers: {
      'X-Plex-Client-Identifier': opts.clientIdentifier ?? defaultClientIdentifier(),
      'X-Plex-Product': product,
      'X-Plex-Version': VERSION,
      'X-Plex-Platform': 'Node.js',
      'X-Plex-Platform-Version': process.versions.node,
      'X-Plex-Device-Name': product,
      ...opts.extraHeaders,
    },
  })

  const json = { Accept: 'application/json' }

  /** `route` names a path with ids in it for observers (`/library/sections/{id}/all`). */
  async function get(
    path: string,
    params: Record<string, string | number | undefined> = {},
    signal?: AbortSignal,
    headers?: Record<string, string>,
    route = path,
  ): Promise<Fields> {
    const url = new URL(baseUrl + path + queryString(params))
    const { mc } = await http.container({ url, endpoint: path, route, signal, headers: { ...json, ...headers } })
    return mc
  }

  async function itemPage(
    path: string,
    route: string,
    params: Record<string, string | number | undefined>,
    start: number,
    size: number,
    signal?: AbortSignal,
  ): Promise<FetchedPage<LibraryItem>> {
    const mc = await get(path, params, signal, pagingHeaders(start, size), route)
    return { rows: parseLibraryItems(mc), offset: mc.optNum('offset'), totalSize: mc.optNum('totalSize') }
  }

  async function newest(path: string, route: string, size: number, signal?: AbortSignal): Promise<LibraryItem[]> {
    nonNegativeInt('size', size)
    if (size === 0) return []
    const { rows } = await itemPage(path, route, {}, 0, size, signal)
    return rows.slice(0, size)
  }

  const client: PlexClient = {
    baseUrl,

    async serverInfo(signal) {
      return parseServerInfo(await get('/', {}, signal))
    },

    async identity(signal) {
      return parseIdentity(await get('/identity', {}, signal))
    },

    async accounts(signal) {
      return parseAccounts(await get('/accounts', {}, signal))
    },

    async librarySections(signal) {
      return parseLibrarySections(await get('/library/sections', {}, signal))
    },

    async sectionTotal(sectionId, typeId, signal) {
      const path = `/library/sections/${nonNegativeInt('sectionId', sectionId)}/all`
      const mc = await get(path, { type: typeId, includeCollections: 0 }, signal, pagingHeaders(0, 0), SECTION_ALL)
      // A server that ignores Size=0 sends the items instead of only the count.
      return mc.optNum('totalSize') ?? mc.optNum('size') ?? mc.list('Metadata').length
    },

    async *sectionItems(sectionId, query = {}, signal) {
      const path = `/library/sections/${nonNegativeInt('sectionId', sectionId)}/all`
      const params = { type: query.type, includeCollections: 0 }
      const pages = pagesOf(
        (start, size) => itemPage(path, SECTION_ALL, params, start, size, signal),
        query.pageSize ?? 500,
        (item) => item.ratingKey,
      )
      for await (const { rows, offset, totalSize } of pages) yield { items: rows, offset, totalSize }
    },

    async sectionRecentlyAdded(sectionId, opts = {}, signal) {
      return newest(
        `/library/sections/${nonNegativeInt('sectionId', sectionId)}/recentlyAdded`,
        '/library/sections/{id}/recentlyAdded',
        opts.size ?? 50,
        signal,
      )
    },

    async recentlyAdded(opts = {}, signal) {
      return newest('/library/recentlyAdded', '/library/recentlyAdded', opts.size ?? 50, signal)
    },

    async sessions(signal) {
      return parseSessions(await get('/status/sessions', {}, signal))
    },

    async transcodeSessions(signal) {
      return parseTranscodeSessions(await get('/transcode/sessions', {}, signal))
    },

    async activities(signal) {
      return parseActivities(await get('/activities', {}, signal))
    },

    async *history(query = {}, signal) {
      const path = '/status/sessions/history/all'
      const params = {
        sort: 'viewedAt:desc',
        'viewedAt>': query.since,
        accountID: query.accountId,
        librarySectionID: query.sectionId,
      }
      yield* pagesOf(
        async (start, size) => {
          const mc = await get(path, params, signal, pagingHeaders(start, size))
          return { rows: parseHistoryRows(mc), offset: mc.optNum('offset'), totalSize: mc.optNum('totalSize') }
        },
        query.pageSize ?? 1000,
        (row) => row.historyKey,
      )
    },

    async metadata(ratingKeys, signal) {
      const keys = [...new Set(ratingKeys)]
      const items: LibraryItem[] = []
      for (let i = 0; i < keys.length; i += batchSize) {
        const batch = keys
          .slice(i, i + batchSize)
          .map(encodeURIComponent)
          .join(',')
        try {
          items.push(
            ...parseLibraryItems(
              await get(`/library/metadata/${batch}`, {}, signal, undefined, '/library/metadata/{ids}'),
            ),
          )
        } catch (err) {
          // PMS answers a batch with the items it still has, and 404 when it has none of them.
          if (!(err instanceof PlexHttpError && err.status === 404)) throw err
        }
      }
      return items
    },

    async sharedServers(machineIdentifier, signal) {
      const endpoint = `/api/servers/${encodeURIComponent(machineIdentifier)}/shared_servers`
      const url = new URL(plexTvUrl + endpoint)
      // plex.tv documents the token in the query for this legacy XML endpoint; it also goes as a header.
      url.searchParams.set('X-Plex-Token', opts.token)
      const { mc } = await http.container({
        url,
        endpoint: `plex.tv ${endpoint}`,
        route: 'plex.tv /api/servers/{id}/shared_servers',
        signal,
        headers: { Accept: 'application/xml' },
      })
      return parseSharedServers(mc)
    },

    async fetchImage(pathOrUrl, signal) {
      let url = imageUrl(pathOrUrl)
      for (let hop = 0; ; hop++) {
        const sameServer = url.origin === base.origin
        const endpoint = sameServer ? url.pathname : `${url.origin}${url.pathname}`
        const route = sameServer ? 'image' : 'image (other host)'
        const res = await http.send<{ redirect: URL } | { image: PlexImage }>(
          { url, endpoint, route, signal, withToken: sameServer, headers: { Accept: 'image/*' } },
          async (r) => {
            if (r.status === 401 && sameServer) await rejectFailure(r, endpoint)
            const location = r.headers.get('location')
            if (r.status >= 300 && r.status < 400 && location && hop < MAX_IMAGE_REDIRECTS) {
              await r.body?.cancel().catch(() => {})
              return { redirect: new URL(location, url) }
            }
            const body = await http.body(r, endpoint)
            return { image: { status: r.status, contentType: r.headers.get('content-type') ?? undefined, body } }
          },
        )
        if ('image' in res) return res.image
        url = res.redirect
      }
    },
  }

  function imageUrl(pathOrUrl: string): URL {
    if (/^https?:\/\//i.test(pathOrUrl)) return new URL(pathOrUrl)
    if (/^[a-z][a-z0-9+.-]*:/i.test(pathOrUrl))
      throw new TypeError(`image "${pathOrUrl.slice(0, 80)}" is not a path or an http(s) URL`)
    return new URL(baseUrl + (pathOrUrl.startsWith('/') ? pathOrUrl : `/${pathOrUrl}`))
  }

  return client
}
