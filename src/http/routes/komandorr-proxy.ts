import httpProxy from '@fastify/http-proxy'
import replyFrom, { type FastifyReplyFromHooks } from '@fastify/reply-from'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ClientOptions } from 'ws'
import type { CacheEntry, CacheOutcome } from '../../cache/index.js'
import type { KomandorrAnswer } from '../../features/caches/komandorr-declaration.js'
import { routePattern, type KomandorrCached, type KomandorrUpstream } from '../../features/komandorr-upstream/index.js'

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const X_CACHE: Record<CacheOutcome, string> = { hit: 'HIT', miss: 'MISS', coalesced: 'MISS', stale: 'STALE' }
const UPSTREAM = { access: 'upstream' } as const

type ErrorReply = NonNullable<FastifyReplyFromHooks['onError']>

/** What the WebSocket tunnel sends Komandorr on an upgrade (an option of http-proxy's its types omit). */
type UpgradeHeaders = (headers: Record<string, string>, request: FastifyRequest) => Record<string, string>

/**
 * In front of Komandorr (KOMANDORR_URL): every request no route of this service answers goes to
 * Komandorr as it came (any method, path, query, body and headers, `Authorization` included)
 * and its answer streams back with its status and headers; WebSocket upgrades
 * (`/api/traffic/ws`) are tunnelled, and the frontend is Komandorr's own. The GETs the frontend
 * polls are answered from their caches to callers Komandorr accepts; a write drops the cached
 * GETs it may change, on every instance.
 */
export function komandorrProxyRoutes(app: FastifyInstance, deps: { komandorr: KomandorrUpstream }): void {
  const { komandorr } = deps
  const onError: ErrorReply = (reply, { error }) => {
    const path = reply.request.url.split('?', 1)[0]
    void reply.code(502).send({
      detail: `Komandorr at ${komandorr.url} did not answer ${reply.request.method} ${path}: ${error.message}`,
    })
  }

  void app.register(async (proxy) => {
    // Bodies stream to Komandorr unread, whatever their type.
    proxy.removeAllContentTypeParsers()
    proxy.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    proxy.addHook('onRequest', (request, _reply, done) => {
      const pattern = routePattern(request.url)
      komandorr.observe.request(pattern)
      komandorr.observe.upstreamCall(pattern)
      done()
    })
    await proxy.register(httpProxy, {
      upstream: komandorr.url,
      websocket: true,
      proxyPayloads: false,
      config: UPSTREAM,
      replyOptions: {
        onError,
        onResponse: (request, reply, response) => {
          if (!WRITES.has(request.method)) return void reply.send(response.stream)
          komandorr.afterWrite(request.url).then(
            () => reply.send(response.stream),
            (error: unknown) => {
              request.log.warn({ err: error }, 'cached Komandorr GETs not dropped after a write')
              reply.send(response.stream)
            },
          )
        },
      },
      wsClientOptions: { rewriteRequestHeaders: upgradeHeaders } as ClientOptions,
    })
  })

  void app.register(async (cachedRoutes) => {
    await cachedRoutes.register(replyFrom, { base: komandorr.url })
    for (const cached of komandorr.cached)
      cachedRoutes.get(cached.spec.path, { config: UPSTREAM }, cachedAnswer(komandorr, cached, onError))
  })
}

/** Browsers send no Authorization on an upgrade; a cookie or credentials that came go along. */
const upgradeHeaders: UpgradeHeaders = (headers, request) => ({
  ...headers,
  ...(request.headers.cookie === undefined ? {} : { cookie: request.headers.cookie }),
  ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }),
})

/**
 * A cached GET: to a caller Komandorr accepts (or anyone on an open route), the cached answer
 * (stale while Komandorr fails); anything else (a query, other or no credentials, nothing
 * cached and Komandorr failing) passes through, so the caller gets Komandorr's own answer, or
 * a 502 with `detail` when there is none.
 */
function cachedAnswer(komandorr: KomandorrUpstream, { spec, cache }: KomandorrCached, onError: ErrorReply) {
  const { callers, observe } = komandorr
  const pattern = spec.path
  const passThrough = (reply: FastifyReply) => {
    observe.upstreamCall(pattern)
    return reply.from(undefined, { onError })
  }
  return async function answer(request: FastifyRequest, reply: FastifyReply) {
    observe.request(pattern)
    if (request.url.includes('?')) return passThrough(reply)
    if (!spec.open) {
      const authorization = request.headers.authorization
      const verdict = callers.verdictNow(authorization) ?? (await callers.verdict(authorization).catch(() => undefined))
      if (verdict !== 'accepted') return passThrough(reply)
    }
    const held = cache.peek()
    if (held !== undefined) {
      observe.hit(pattern)
      return sendAnswer(request, reply, held, 'hit', cache.ageMs(held))
    }
    let read
    try {
      read = await cache.read()
    } catch {
      return passThrough(reply)
    }
    if (read.outcome === 'hit' || read.outcome === 'stale') observe.hit(pattern)
    return sendAnswer(request, reply, read.entry, read.outcome, cache.ageMs(read.entry))
  }
}

function sendAnswer(
  request: FastifyRequest,
  reply: FastifyReply,
  entry: CacheEntry<KomandorrAnswer>,
  outcome: CacheOutcome,
  ageMs: number,
): FastifyReply {
  reply.header('x-cache', X_CACHE[outcome])
  reply.header('age', String(Math.floor(ageMs / 1000)))
  reply.header('etag', entry.etag)
  if (request.headers['if-none-match'] === entry.etag) return reply.code(304).send()
  const answer = entry.value
  if (answer.contentType !== null) reply.header('content-type', answer.contentType)
  return reply.code(answer.status).send(answer.body)
}
