// One place that talks HTTP to Plex: headers, the deadline, the caller's AbortSignal, and the
// mapping of every failure to a PlexError. The token travels as a header; it is added to a URL only
// for plex.tv (which documents it in the query), and no error text ever includes a URL's query.
import { readCappedBody } from './body.js'
import { Fields } from './coerce.js'
import {
  PlexAbortedError,
  PlexAuthError,
  PlexError,
  PlexHttpError,
  PlexResponseError,
  PlexTimeoutError,
  PlexUnreachableError,
  errorCode,
  type PlexErrorKind,
  sanitizedCause,
} from './errors.js'
import { parsePool } from './parse-pool.js'

/** One finished Plex request, as an observer sees it: nothing from the URL but its route. */
export interface PlexCall {
  /** The endpoint's pattern (`/library/sections/{id}/all`), never a concrete path, query or host. */
  readonly route: string
  /** `success` (any status for an image), else the PlexError kind. */
  readonly outcome: 'success' | PlexErrorKind
  readonly durationMs: number
}

export type PlexCallObserver = (call: PlexCall) => void

/**
 * Another source of PMS answers for a GET (the PMS mirror's caches): the answer, or undefined
 * when it has no fresh one for this request and it goes to PMS.
 */
export type PlexAnswerSource = (
  url: URL,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
) => Promise<Response | undefined> | undefined

export interface PlexHttpConfig {
  token: string
  timeoutMs: number
  /** PLEX_MAX_RESPONSE_BYTES: a reply body past this is cut off with a PlexResponseTooLargeError. */
  maxResponseBytes: number
  /** X-Plex-* identification headers plus any extra headers; the token is added per request. */
  headers: Record<string, string>
  /** Told of every request when it ends (metrics); must not throw. */
  observe?: PlexCallObserver
  /** Asked first for every request to the PMS (never for third-party hosts). */
  answers?: PlexAnswerSource
}

export interface PlexRequest {
  url: URL
  /** How errors name the request: the path, never the query. */
  endpoint: string
  /** How an observer names it: the endpoint with its ids replaced (default `endpoint`). */
  route?: string
  headers?: Record<string, string>
  signal?: AbortSignal
  /** False for third-party hosts (image URLs outside the PMS): the token is not sent to them. */
  withToken?: boolean
}

/** `host:port` for error messages, with the scheme's default port spelled out. */
export function hostPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  return `${url.hostname}:${port}`
}

export class PlexHttp {
  constructor(private readonly config: PlexHttpConfig) {}

  /**
   * Sends a GET and hands the response to `consume` while the deadline and the caller's signal
   * still apply (a body can hang as well as the headers; `consume` gets the signal that aborts
   * with them). Redirects are not followed, so the token header never reaches another host.
   */
  async send<T>(req: PlexRequest, consume: (res: Response, signal: AbortSignal) => Promise<T>): Promise<T> {
    const observe = this.config.observe
    if (observe === undefined) return this.attempt(req, consume)
    const started = performance.now()
    try {
      const result = await this.attempt(req, consume)
      observe({ route: req.route ?? req.endpoint, outcome: 'success', durationMs: performance.now() - started })
      return result
    } catch (err) {
      observe({
        route: req.route ?? req.endpoint,
        outcome: (err as PlexError).kind,
        durationMs: performance.now() - started,
      })
      throw err
    }
  }

  private async attempt<T>(req: PlexRequest, consume: (res: Response, signal: AbortSignal) => Promise<T>): Promise<T> {
    const { endpoint, signal } = req
    if (signal?.aborted) throw new PlexAbortedError(endpoint)
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.config.timeoutMs)
    const onCallerAbort = () => controller.abort()
    signal?.addEventListener('abort', onCallerAbort, { once: true })
    try {
      const headers: Record<string, string> = { ...this.config.headers, ...req.headers }
      if (req.withToken !== false) headers['X-Plex-Token'] = this.config.token
      const answered =
        req.withToken !== false ? await this.config.answers?.(req.url, headers, controller.signal) : undefined
      const res = answered ?? (await fetch(req.url, { headers, signal: controller.signal, redirect: 'manual' }))
      return await consume(res, controller.signal)
    } catch (err) {
      if (err instanceof PlexError) throw err
      if (signal?.aborted) throw new PlexAbortedError(endpoint)
      if (timedOut) throw new PlexTimeoutError(endpoint, this.config.timeoutMs)
      const cause = (err as { cause?: unknown }).cause ?? err
      throw new PlexUnreachableError(
        endpoint,
        hostPort(req.url),
        errorCode(cause),
        sanitizedCause(cause, this.config.token),
      )
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onCallerAbort)
    }
  }

  /** GET a PMS-style container (JSON, or XML converted to the JSON shape). */
  async container(req: PlexRequest, containerKey = 'MediaContainer'): Promise<{ mc: Fields; headers: Headers }> {
    return this.send(req, async (res, signal) => {
      await rejectFailure(res, req.endpoint)
      const bytes = await this.body(res, req.endpoint)
      const decoded = await parsePool.decode(bytes, res.headers.get('content-type') ?? '', signal)
      if ('problem' in decoded) throw new PlexResponseError(req.endpoint, decoded.problem)
      return { mc: Fields.root(req.endpoint, decoded.value, containerKey), headers: res.headers }
    })
  }

  /** The whole body, at most `maxResponseBytes` of it (else PlexResponseTooLargeError). */
  body(res: Response, endpoint: string): Promise<Buffer> {
    return readCappedBody(res, endpoint, this.config.maxResponseBytes)
  }
}

/** Throws the PlexError for a non-2xx answer (after discarding its body). */
export async function rejectFailure(res: Response, endpoint: string): Promise<void> {
  if (res.status >= 200 && res.status < 300) return
  await res.body?.cancel().catch(() => {})
  if (res.status === 401) throw new PlexAuthError(endpoint)
  throw new PlexHttpError(endpoint, res.status, res.statusText)
}
