// JSON Schemas (OpenAPI 3.1) of every body the service answers: the routes attach them, the
// OpenAPI document at /openapi.json is generated from them, and a test validates real answers
// against them. They document; they do not serialize (see install.ts), so a field missing here
// can never be dropped from an answer.
import { arrayOf, bool, dateTime, int, nullable, num, object, str, type JsonSchema } from '../../json-schema.js'
import { SERVICE_STATUSES, SERVICE_TYPES } from '../../features/monitored-services/types.js'

type Schema = JsonSchema

/** `{detail}` (Plex routes add `message` and a few fields of the route's normal shape). */
export const errorBody: Schema = {
  type: 'object',
  description: 'An error: `detail` says what was wrong (a bad field is named).',
  properties: { detail: str, message: str },
  required: ['detail'],
  additionalProperties: true,
}

/** The fields a cached object answer carries in front of the value (see docs/ and src/http/cached-reply.ts). */
const cacheFields = {
  cached: { type: 'boolean', description: 'false when this request loaded the value' },
  cache_age: { type: 'number', description: 'seconds since the value was fetched, one decimal' },
  timestamp: { ...dateTime, description: 'when the value was fetched from the upstream' },
  stale: {
    const: true,
    description: 'present when the value is past its TTL (the upstream failed, or a refresh is in flight)',
  },
}

/** A cached object answer: the value's fields plus `cached`, `cache_age`, `timestamp` (and `stale`). */
export function cached(value: Schema, description?: string): Schema {
  const properties = value.properties as Record<string, Schema>
  return object({ ...cacheFields, ...properties }, ['stale', ...optionalOf(value)], description)
}

function optionalOf(value: Schema): string[] {
  const required = new Set((value.required as string[] | undefined) ?? [])
  return Object.keys(value.properties as Record<string, Schema>).filter((name) => !required.has(name))
}

export const healthBody = object({
  status: { enum: ['healthy', 'degraded'] },
  version: str,
  services_count: int,
  redis: { anyOf: [str, { type: 'object' }] },
  database: { enum: ['ok', 'connecting', 'unavailable', 'closed', 'error'] },
  plex: { anyOf: [str, { type: 'object' }] },
})

export const authStatusBody = object({ enabled: bool })
export const liveBody = object({ status: str })
export const readyBody = object({ status: str })

export const serviceBody = object({
  id: str,
  name: str,
  url: str,
  type: { enum: SERVICE_TYPES },
  status: { enum: SERVICE_STATUSES },
  last_check: nullable('string', { format: 'date-time' }),
  response_time: nullable('number'),
  description: nullable('string'),
  icon: nullable('string'),
  group: nullable('string'),
  traffic: {
    anyOf: [
      { type: 'null' },
      object({
        bandwidth_up: num,
        bandwidth_down: num,
        total_up: num,
        total_down: num,
        max_bandwidth: nullable('number'),
        cpu_percent: nullable('number'),
        memory_percent: nullable('number'),
        last_updated: dateTime,
      }),
    ],
  },
})
export const servicesBody = arrayOf(serviceBody)

export const statusMessageBody = object({ status: str, message: str })

const plexConfigView = { url: str, server_name: str, token_configured: bool }
export const plexConfigBody = object(plexConfigView, [], 'The Plex server in use; never the token')
export const plexConfigSavedBody = object({
  success: { const: true },
  status: { const: 'success' },
  message: str,
  ...plexConfigView,
})
export const plexValidateBody = object({ valid: bool, message: str, server_name: nullable('string') })

export const imageBody = {
  description: 'The image, as Plex (or the image host) sent it',
  content: { 'image/*': { schema: { type: 'string', format: 'binary' } } },
}

export const watchHistorySyncBody = object({ success: bool, message: str, added: int, updated: int })

export const peakBody = object({
  success: { const: true },
  peak_concurrent: int,
  last_updated: nullable('string', { format: 'date-time' }),
})

const cacheReportEntry = object(
  {
    name: str,
    hits: int,
    misses: int,
    total_requests: int,
    hit_rate: { type: 'string', pattern: '^\\d+\\.\\d%$' },
    ttl_seconds: num,
    cached: bool,
    cache_age_seconds: nullable('number'),
    declared: bool,
    key: str,
    stale_serves: int,
    coalesced: int,
    shared_hits: int,
    refreshes: int,
    loads: int,
    errors: int,
    evictions: int,
    oversized: int,
    entries: int,
    bytes: int,
    load_p50_ms: nullable('number'),
    load_p95_ms: nullable('number'),
    load_p99_ms: nullable('number'),
    load_samples: int,
    last_fetched: nullable('string', { format: 'date-time' }),
    last_error: nullable('string'),
    max_stale_seconds: num,
    refresh_ahead: bool,
    shared: bool,
    enabled: bool,
    last_update: nullable('string', { format: 'date-time' }),
    update_interval: num,
    disk_enabled: bool,
    disk_disabled_reason: nullable('string'),
    disk_entries: int,
    disk_bytes: int,
    disk_hits: int,
  },
  [
    'enabled',
    'last_update',
    'update_interval',
    'disk_enabled',
    'disk_disabled_reason',
    'disk_entries',
    'disk_bytes',
    'disk_hits',
  ],
)
export const cacheStatsBody = object({
  caches: arrayOf(cacheReportEntry),
  redis: {
    type: 'object',
    properties: {
      type: { enum: ['redis', 'memory'] },
      enabled: bool,
      connected: bool,
      state: str,
      last_error: nullable('string'),
    },
    required: ['type', 'enabled', 'connected', 'state', 'last_error'],
    additionalProperties: true,
  },
  redis_keys_expected: arrayOf(str),
  scopes: object(
    {
      count: int,
      max_bytes_per_scope: int,
      entries: int,
      bytes: int,
      evictions: int,
      derivations: int,
      per_scope: arrayOf(object({ scope: str, entries: int, bytes: int, evictions: int })),
    },
    [],
    "Viewers' scoped entries in this instance's memory: totals, and per scope by its hash (never a name)",
  ),
  timestamp: dateTime,
})
export const cacheClearBody = object({
  success: { const: true },
  message: str,
  redis_cleared: bool,
  cleared: arrayOf(str),
})
export const cacheWarmBody = object({
  success: bool,
  message: str,
  warmed: arrayOf(str),
  failed: arrayOf(object({ name: str, detail: str })),
})

const numbersOrNull = arrayOf(nullable('number'))
export const cacheHistoryBody = object(
  {
    interval_ms: num,
    window_ms: num,
    times: arrayOf(num),
    redis: numbersOrNull,
    caches: { type: 'object', additionalProperties: { type: 'object', additionalProperties: numbersOrNull } },
  },
  [],
  'Samples of every cache, oldest first: counters since start (hits, misses, stale, coalesced, loads, load_errors, saved) and state (entries, bytes, age_ms, load_p95_ms)',
)

export const textBody = (mediaType: string, description: string) => ({
  description,
  content: { [mediaType]: { schema: str } },
})

/** The `schema` of a route: its tag, summary and responses (an error body for every 4xx and 5xx). */
export function routeDoc(
  tag: string,
  summary: string,
  responses: Record<string, unknown>,
  request: Schema = {},
): Schema {
  return { tags: [tag], summary, ...request, response: { ...responses, '4xx': errorBody, '5xx': errorBody } }
}

/** A viewer account as the API shows it: never the password or its hash. */
export const viewerBody = object(
  { username: str, plex_account_id: int, created_at: dateTime },
  [],
  'A viewer account (never its password)',
)
export const viewersBody = object({ viewers: arrayOf(viewerBody) })
