import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Principal } from '../cache/index.js'
import type { FastCaller, RouteAccess } from './auth.js'
import type { CorsPolicy } from './cors.js'

/**
 * Answers a GET at once and returns true, or returns false (having written nothing) to leave
 * it to Fastify. `extraHeaders` (CORS) go beside its own, as name, value, ... `viewer`: whose
 * scoped value to answer with (only on a route added as `scoped`), null for the unscoped one.
 */
export type FastAnswer = (
  request: IncomingMessage,
  response: ServerResponse,
  extraHeaders: readonly string[],
  viewer: Principal | null,
) => boolean

const NO_HEADERS: readonly string[] = []

/** Where a fast hit's duration goes (seconds): the route's 2xx series of the HTTP histogram. */
export interface HitTimer {
  observe(seconds: number): void
}

interface FastRoute {
  readonly access: RouteAccess
  /** Viewers get their own view here: the answer is given the caller. */
  readonly scoped: boolean
  readonly answer: FastAnswer
  readonly timer: HitTimer | undefined
}

/**
 * Cache hits answered in front of Fastify. A hit is the one request a dashboard makes over and
 * over, and Fastify's routing, request and reply objects, hooks and per-request logging cost
 * more than the hit itself (the API bench: a hit ran at 0.65-0.8x a bare Fastify route). Only a
 * plain GET of a cached path with a fresh value takes this path, with the same auth verdict and
 * CORS headers as the Fastify hooks, and for a signed-in viewer their own scoped value (never
 * the unscoped one); anything else (HEAD, OPTIONS, a query the route must read, `If-None-Match`,
 * credentials that are not right, a viewer's first sign-in, no Host, a miss, shutdown) goes to
 * Fastify unchanged.
 * A hit is timed into the same histogram series as the route's answers through Fastify, from
 * the listener's call to `end()` (Fastify's hook: to the response's `finish`).
 */
export class FastHits {
  private readonly routes = new Map<string, FastRoute>()
  private open = true

  /** `timerFor`: the 200 series of a route pattern, when request metrics are on. */
  constructor(
    private readonly callerOf: FastCaller,
    private readonly cors: CorsPolicy,
    private readonly timerFor?: (path: string) => HitTimer,
  ) {}

  /**
   * A path (also matched with a trailing slash and any query string) answered by `answer` when it
   * can; `scoped`: a viewer's request is answered with their view (else it goes to Fastify).
   */
  add(path: string, access: RouteAccess, scoped: boolean, answer: FastAnswer): void {
    const route: FastRoute = { access, scoped, answer, timer: this.timerFor?.(path) }
    this.routes.set(path, route)
    this.routes.set(`${path}/`, route)
  }

  /** From now on everything goes to Fastify (it closes connections while the server drains). */
  close(): void {
    this.open = false
  }

  handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (!this.open || request.method !== 'GET') return false
    const started = performance.now()
    const url = request.url ?? ''
    const query = url.indexOf('?')
    const route = this.routes.get(query < 0 ? url : url.slice(0, query))
    if (route === undefined) return false
    const headers = request.headers
    // Fastify answers an HTTP/1.1 request without Host with a 400 saying so.
    if (headers.host === undefined) return false
    const viewer = this.callerOf(route.access, route.scoped, headers.authorization)
    if (viewer === undefined) return false
    const origin = headers.origin
    if (
      !route.answer(
        request,
        response,
        origin === undefined || !this.cors.enabled ? NO_HEADERS : this.cors.headersFor(origin),
        viewer,
      )
    )
      return false
    route.timer?.observe((performance.now() - started) / 1000)
    return true
  }
}
