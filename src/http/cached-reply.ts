import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Cache, CacheEntry, CacheOutcome } from '../cache/index.js'
import { upstreamError } from './upstream-error.js'

/**
 * The one place that turns a cache read into an HTTP answer (SPEC §2): `X-Cache`, `Age`,
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
}

/** Reads through the cache and answers; a load that failed with no stale value is a 502/503. */
export async function replyFromCache<V, A>(
  request: FastifyRequest,
  reply: FastifyReply,
  cache: Cache<V, A>,
  args: A,
  options: CachedRouteOptions,
): Promise<FastifyReply> {
  let read
  try {
    read = await cache.read(args)
  } catch (error) {
    throw upstreamError(error, options.what, options.failureFields)
  }
  return sendCacheEntry(request, reply, cache, read.entry, read.outcome, options.shape)
}

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
  reply.header('X-Cache', X_CACHE[outcome])
  reply.header('Age', Math.floor(ageMs / 1000))
  reply.header('ETag', entry.etag)
  if (request.headers['if-none-match'] === entry.etag) {
    return reply.code(304).send()
  }
  reply.type('application/json; charset=utf-8')
  if (shape === 'array') return reply.send(entry.json)
  return reply.send(objectBody(entry, outcome, ageMs))
}

function objectBody(entry: CacheEntry<unknown>, outcome: CacheOutcome, ageMs: number): string {
  const cached = outcome === 'hit' || outcome === 'stale'
  const head =
    `{"cached":${cached},"cache_age":${(Math.round(ageMs / 100) / 10).toFixed(1)},` +
    `"timestamp":"${isoOf(entry.fetchedAt)}"${outcome === 'stale' ? ',"stale":true' : ''}`
  return entry.json.length > 2 ? `${head},${entry.json.slice(1)}` : `${head}}`
}

// Formatting a date per request is the hit path's one avoidable cost: remember the last one.
let lastEpochMs = Number.NaN
let lastIso = ''
export function isoOf(epochMs: number): string {
  if (epochMs !== lastEpochMs) {
    lastEpochMs = epochMs
    lastIso = new Date(epochMs).toISOString()
  }
  return lastIso
}
