import type { IncomingHttpHeaders } from 'node:http'
import { countItems, render, type El, type Format } from '../container.js'
import type { LiveState } from '../live/state.js'
import type { World } from '../world.js'

export interface Reply {
  status: number
  contentType: string
  body: Buffer
  /** Items in the answer, for latencyPerItemMs. */
  items: number
  headers?: Record<string, string>
}

export interface Paging {
  start: number
  /** null: no size asked, the endpoint's default applies. */
  size: number | null
  requested: boolean
}

export interface RequestContext {
  world: World
  live: LiveState
  path: string
  params: Record<string, string>
  query: URLSearchParams
  rawQuery: string
  headers: IncomingHttpHeaders
  format: Format
  paging: Paging
}

export const UNAUTHORIZED_BODY = String.raw`<html><head><script>window.location = window.location.href.match(/(^.+\/)[^\/]*$/)[1] + 'web/index.html';</script><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>`

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** PMS answers errors with small HTML pages, never JSON, whatever the Accept header says. */
export function htmlError(status: number): Reply {
  if (status === 401) return { status, contentType: 'text/html', body: Buffer.from(UNAUTHORIZED_BODY), items: 0 }
  const text = STATUS_TEXT[status] ?? 'Error'
  return {
    status,
    contentType: 'text/html',
    body: Buffer.from(`<html><head><title>${text}</title></head><body><h1>${status} ${text}</h1></body></html>`),
    items: 0,
  }
}

export function containerReply(container: El, format: Format, headers?: Record<string, string>): Reply {
  return {
    status: 200,
    contentType: format === 'json' ? 'application/json' : 'text/xml;charset=utf-8',
    body: Buffer.from(render(container, format)),
    items: countItems(container),
    ...(headers ? { headers } : {}),
  }
}

/**
 * Container start/size: headers first. Newer PMS ignores the query form when `type=`
 * is set, so the query is honoured only without it.
 */
export function readPaging(headers: IncomingHttpHeaders, query: URLSearchParams): Paging {
  const header = (name: string): string | undefined => {
    const v = headers[name]
    return Array.isArray(v) ? v[0] : v
  }
  const queryAllowed = !query.has('type')
  const rawStart =
    header('x-plex-container-start') ?? (queryAllowed ? (query.get('X-Plex-Container-Start') ?? undefined) : undefined)
  const rawSize =
    header('x-plex-container-size') ?? (queryAllowed ? (query.get('X-Plex-Container-Size') ?? undefined) : undefined)
  const start = rawStart !== undefined && /^\d+$/.test(rawStart) ? Number(rawStart) : 0
  const size = rawSize !== undefined && /^\d+$/.test(rawSize) ? Number(rawSize) : null
  return { start, size, requested: rawStart !== undefined || rawSize !== undefined }
}

/**
 * Applies paging to `total` items: the slice to send and the container attributes
 * (`size`, then `totalSize` and `offset` when the client paged).
 */
export function page(
  paging: Paging,
  total: number,
  defaultSize: number | null,
): { from: number; to: number; attrs: Record<string, number> } {
  const from = Math.min(paging.start, total)
  const size = paging.size ?? defaultSize ?? total
  const to = Math.min(total, from + size)
  const attrs: Record<string, number> = { size: to - from }
  if (paging.requested) {
    attrs.totalSize = total
    attrs.offset = from
  }
  return { from, to, attrs }
}

export function pagingHeaders(paging: Paging, total: number): Record<string, string> | undefined {
  if (!paging.requested) return undefined
  return {
    'X-Plex-Container-Start': String(Math.min(paging.start, total)),
    'X-Plex-Container-Total-Size': String(total),
  }
}

export const MEDIA_TAG_PREFIX = '/system/bundle/media/flags/'
export const MEDIA_TAG_VERSION = 1_734_362_312
