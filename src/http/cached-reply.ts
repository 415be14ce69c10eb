import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Cache, CacheEntry, CacheOutcome, Principal, Scope } from '../cache/index.js'
import { etagOf } from '../cache/entry.js'
import type { FastAnswer } from './fast-hits.js'
import { upstreamError } from './upstream-error.js'

/**
 * The one place that turns a cache read into an HTTP answer (README, Endpoints): `X-Cache`, `Age`,
 * `ETag` and 304 on a matching `If-None-Match`; object bodies also get `cached`, `cache_age`,
 * `timestamp` (time of the upstream fetch) and `stale` when true. The value's JSON was made
 * once, when the cache was filled: a hit only splices a few fields in front of it.
 */
export type BodyShape = 'object' | 'array'

interface AgedCache<V> {
  ageMs(entry: CacheEntry<V>): number
}

export interface CachedRouteOptions {
  /** What the cache holds, for the error detail: `Could not load <what>: ...`. */
  readonly what: string
  readonly shape?: BodyShape
  /** Fields a failed answer carries beside `detail`/`message` (e.g. `error: true, sessions: []`). */
  readonly failureFields?: Record<string, unknown>
  /** A top-level field of the value never answered (see `answeredEntry`). */
  readonly internal?: string
  /** Called on a miss before the read, which it may refuse by throwing; what it returns is called when the read ends. */
  readonly admit?: (request: FastifyRequest) => () => void
}

/**
 * Answers from the cache: a fresh value in memory at once (no promise on the hot path: returns
 * undefined, the reply sent), else reads through it; a load that failed with no stale value is
 * a 502/503.
 */
export function replyFromCache<V, A>(
  request: FastifyRequest,
  reply: FastifyReply,
  cache: Cache<V, A>,
  args: A,
  options: CachedRouteOptions,
  scope?: Scope,
): Promise<FastifyReply> | undefined {
  const entry = cache.peek(args, scope)
  if (entry === undefined) return readThenReply(request, reply, cache, args, options, scope)
  sendCacheEntry(
    request,
    reply,
    cache,
    scope === undefined ? answeredEntry(entry, options.internal) : entry,
    'hit',
    options.shape,
  )
  return undefined
}

async function readThenReply<V, A>(
  request: FastifyRequest,
  reply: FastifyReply,
  cache: Cache<V, A>,
  args: A,
  options: CachedRouteOptions,
  scope: Scope | undefined,
): Promise<FastifyReply> {
  const done = options.admit?.(request)
  let read
  try {
    read = await cache.read(args, scope)
  } catch (error) {
    throw upstreamError(error, options.what, options.failureFields)
  } finally {
    done?.()
  }
  const entry = scope === undefined ? answeredEntry(read.entry, options.internal) : read.entry
  return sendCacheEntry(request, reply, cache, entry, read.outcome, options.shape)
}

/** Per unscoped entry with an internal field, the entry answered: made once, on its first answer. */
const answeredEntries = new WeakMap<CacheEntry<unknown>, CacheEntry<unknown>>()

/**
 * The entry as a route answers it: without the value's `internal` field, which the cache holds
 * (and shares through Redis) for viewers' views and other caches but nobody is answered with.
 * Its ETag is the one of the answered JSON, so the answer is what it was before the field
 * existed. Only for unscoped entries: a viewer's view never holds the field, and its ETag
 * names the scope.
 */
export function answeredEntry<V>(entry: CacheEntry<V>, internal: string | undefined): CacheEntry<V> {
  if (internal === undefined) return entry
  const value = entry.value as Record<string, unknown> | null
  if (value === null || typeof value !== 'object' || !(internal in value)) return entry
  let answered = answeredEntries.get(entry) as CacheEntry<V> | undefined
  if (answered === undefined) {
    const { [internal]: _internal, ...rest } = value
    const json = JSON.stringify(rest)
    answered = Object.freeze({
      value: rest as V,
      json,
      etag: etagOf(json),
      loadedAt: entry.loadedAt,
      fetchedAt: entry.fetchedAt,
      bytes: Buffer.byteLength(json),
    })
    answeredEntries.set(entry, answered)
  }
  return answered
}

const JSON_TYPE = 'application/json; charset=utf-8'

const X_CACHE: Record<CacheOutcome, string> = { hit: 'HIT', miss: 'MISS', coalesced: 'MISS', stale: 'STALE' }

export function sendCacheEntry<V>(
  request: FastifyRequest,
  reply: FastifyReply,
  cache: AgedCache<V>,
  entry: CacheEntry<V>,
  outcome: CacheOutcome,
  shape: BodyShape = 'object',
): FastifyReply {
  const ageMs = cache.ageMs(entry)
  // Lower-case names: Fastify lower-cases every name it is given, a copy per call otherwise.
  reply.header('x-cache', X_CACHE[outcome])
  reply.header('age', String(Math.floor(ageMs / 1000)))
  reply.header('etag', entry.etag)
  if (request.headers['if-none-match'] === entry.etag) {
    return reply.code(304).send()
  }
  reply.type(JSON_TYPE)
  if (shape === 'array') return reply.send(entry.json)
  return reply.send(objectBody(entry, outcome, ageMs).body)
}

interface BuiltBody {
  readonly outcome: CacheOutcome
  readonly ageTenths: number
  readonly body: string
  /** Its UTF-8 length, for Content-Length on the fast path. */
  readonly length: string
}

/** Per entry, the body last built: it changes only with the outcome and every 100 ms of age. */
const builtBodies = new WeakMap<CacheEntry<unknown>, BuiltBody>()

function objectBody(entry: CacheEntry<unknown>, outcome: CacheOutcome, ageMs: number): BuiltBody {
  const ageTenths = Math.round(ageMs / 100)
  const built = builtBodies.get(entry)
  if (built !== undefined && built.outcome === outcome && built.ageTenths === ageTenths) return built
  const cached = outcome === 'hit' || outcome === 'stale'
  const head =
    `{"cached":${cached},"cache_age":${(ageTenths / 10).toFixed(1)},` +
    `"timestamp":"${new Date(entry.fetchedAt).toISOString()}"${outcome === 'stale' ? ',"stale":true' : ''}`
  const body = entry.json.length > 2 ? `${head},${entry.json.slice(1)}` : `${head}}`
  const fresh = { outcome, ageTenths, body, length: String(Buffer.byteLength(body)) }
  builtBodies.set(entry, fresh)
  return fresh
}

/**
 * The fast path's answer for an argument-less cache (see FastHits): a fresh value in memory (a
 * viewer's: in their scope, `scopeOf`), with exactly the status, headers and body
 * `sendCacheEntry` gives a hit; false on anything else (not configured, a conditional request,
 * no fresh value), which Fastify then answers.
 */
export function fastCacheHit<V>(
  cache: Cache<V>,
  configured: () => boolean,
  shape: BodyShape = 'object',
  scopeOf?: (viewer: Principal) => Scope,
  internal?: string,
): FastAnswer {
  return (request, response, extraHeaders, viewer) => {
    if (!configured() || request.headers['if-none-match'] !== undefined) return false
    if (viewer !== null && scopeOf === undefined) return false
    const held = viewer === null ? cache.peek() : cache.peek(undefined, scopeOf!(viewer))
    if (held === undefined) return false
    const entry = viewer === null ? answeredEntry(held, internal) : held
    const ageMs = cache.ageMs(entry)
    const built =
      shape === 'array' ? { body: entry.json, length: String(entry.bytes) } : objectBody(entry, 'hit', ageMs)
    const headers = [
      ...extraHeaders,
      'x-cache',
      'HIT',
      'age',
      String(Math.floor(ageMs / 1000)),
      'etag',
      entry.etag,
      'content-type',
      JSON_TYPE,
      'content-length',
      built.length,
    ]
    response.writeHead(200, headers)
    response.end(built.body)
    return true
  }
}
