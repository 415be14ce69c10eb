// JSON Schemas (OpenAPI 3.1) of every body the service answers: the routes attach them, the
// OpenAPI document at /openapi.json is generated from them, and a test validates real answers
// against them. They document; they do not serialize (see install.ts), so a field missing here
// can never be dropped from an answer.
import { SERVICE_STATUSES, SERVICE_TYPES } from '../../services/types.js'

type Schema = Record<string, unknown>

const str: Schema = { type: 'string' }
const int: Schema = { type: 'integer' }
const num: Schema = { type: 'number' }
const bool: Schema = { type: 'boolean' }
const dateTime: Schema = { type: 'string', format: 'date-time' }
const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, 'null'], ...extra })
const arrayOf = (items: Schema): Schema => ({ type: 'array', items })
const anyJson: Schema = {}

/** An object with exactly these properties; all required unless listed in `optional`. */
export function object(properties: Record<string, Schema>, optional: readonly string[] = [], description?: string): Schema {
  return {
    type: 'object',
    ...(description === undefined ? {} : { description }),
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    additionalProperties: false,
  }
}

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
  stale: { const: true, description: 'present when the value is past its TTL (the upstream failed, or a refresh is in flight)' },
}

/** A cached object answer: the value's fields plus `cached`, `cache_age`, `timestamp` (and `stale`). */
export function cached(value: Record<string, Schema>, description: string): Schema {
  return object({ ...cacheFields, ...value }, ['stale'], description)
}

export const healthBody = object({
  status: { enum: ['healthy', 'degraded'] },
  version: str,
  services_count: int,
  redis: { anyOf: [str, { type: 'object' }] },
  database: { enum: ['ok', 'error'] },
  plex: { anyOf: [str, { type: 'object' }] },
})

export const authStatusBody = object({ enabled: bool })

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

const activityItem = object({ uuid: str, title: str, subtitle: str, type: str, progress: num, raw_data: anyJson })
export const activitiesBody = {
  anyOf: [
    cached({ error: { const: false }, activities: arrayOf(activityItem) }, 'Plex activities and playing sessions'),
    object({ error: { const: true }, message: str, activities: { type: 'array', maxItems: 0 } }, [], 'Plex is not configured'),
  ],
}

const sessionView = object({
  session_id: str,
  user: object({ name: str, id: str, thumb: nullable('string') }),
  media: object({ title: str, type: str, year: nullable('number'), rating: nullable('number'), thumb: nullable('string'), art: nullable('string') }),
  playback: object({ state: str, progress: num, position_ms: num, duration_ms: num }),
  device: object({ name: str, client: str, platform: str }),
  transcode: object({ is_transcoding: bool, speed: nullable('number'), video_decision: nullable('string'), audio_decision: nullable('string') }),
  stream: object({ video_resolution: str, video_codec: str, audio_codec: str, container: str, bitrate: num, location: str, bandwidth: num }),
})
export const sessionsBody = {
  anyOf: [
    cached({ error: { const: false }, sessions: arrayOf(sessionView), total: int }, 'The playing sessions'),
    object({ error: { const: false }, sessions: { type: 'array', maxItems: 0 }, message: str }, [], 'Plex is not configured'),
  ],
}

const liveStats = { total_users: int, total_movies: int, total_tv_shows: int, total_seasons: int, total_episodes: int, server_name: str }
export const liveStatsBody = {
  anyOf: [cached(liveStats, 'Users and library totals'), object({ ...liveStats, error: str }, [], 'Plex is not configured')],
}

const recentItem = object({ title: str, type: str, year: nullable('number'), poster: nullable('string'), rating: nullable('number') })
export const recentMediaBody = {
  anyOf: [
    cached({ media: arrayOf(recentItem) }, 'Recently added movies and shows, newest first'),
    object({ items: { type: 'array', maxItems: 0 }, not_configured: { const: true } }, [], 'Plex is not configured'),
  ],
}

export const usersCountBody = {
  anyOf: [cached({ count: int }, 'Users the server is shared with (plex.tv)'), object({ count: int, message: str }, [], 'Plex is not configured')],
}

const libraries = {
  servers: arrayOf(object({ id: { const: 'default' }, name: str, url: str })),
  libraries: arrayOf(object({ id: str, name: str, type: str })),
}
export const librariesBody = {
  anyOf: [cached(libraries, 'The server and its libraries'), object({ ...libraries, error: str }, [], 'Plex is not configured')],
}

export const transcodeSessionsBody: Schema = { type: 'object', description: 'The transcoder sessions of the PMS', additionalProperties: true }

const plexConfigView = { url: str, server_name: str, token_configured: bool }
export const plexConfigBody = object(plexConfigView, [], 'The Plex server in use; never the token')
export const plexConfigSavedBody = object({ success: { const: true }, status: { const: 'success' }, message: str, ...plexConfigView })
export const plexValidateBody = object({ valid: bool, message: str, server_name: nullable('string') })

export const imageBody = {
  description: 'The image, as Plex (or the image host) sent it',
  content: { 'image/*': { schema: { type: 'string', format: 'binary' } } },
}

const watchHistoryRow = object({
  user_id: nullable('integer'),
  email: nullable('string'),
  type: nullable('string'),
  title: str,
  grandparent_title: nullable('string'),
  parent_index: nullable('integer'),
  index: nullable('integer'),
  viewed_at: dateTime,
  duration: num,
  view_offset: num,
  progress: num,
  view_count: int,
  rating: nullable('number'),
  year: nullable('integer'),
  thumb: nullable('string'),
  content_rating: nullable('string'),
  studio: nullable('string'),
  summary: nullable('string'),
  genres: arrayOf(str),
})
export const watchHistoryBody = { ...arrayOf(watchHistoryRow), description: 'Watched items, newest first (served from SQLite, filled by the sync)' }
export const watchHistorySyncBody = object({ success: bool, message: str, added: int, updated: int })

const plexStats = {
  peak_concurrent: int,
  last_updated: nullable('string', { format: 'date-time' }),
  server_url: str,
  server_name: str,
  token_configured: bool,
  total_users: int,
  total_movies: int,
  total_tv_shows: int,
}
export const plexStatsBody = {
  anyOf: [cached(plexStats, 'The peak of concurrent streams and the server totals'), object(plexStats, [], 'Plex is not configured')],
}
export const peakBody = object({ success: { const: true }, peak_concurrent: int, last_updated: nullable('string', { format: 'date-time' }) })

export const dashboardBody = cached(
  {
    services: object({ total: int, online: int, offline: int, problem: int }),
    plex: object({
      configured: bool,
      peak_concurrent: int,
      total_users: int,
      total_movies: int,
      total_tv_shows: int,
      total_seasons: int,
      total_episodes: int,
    }),
    traffic: object({
      last_24h_download_bytes: num,
      last_24h_upload_bytes: num,
      last_24h_total_bytes: num,
      last_30d_download_bytes: num,
      last_30d_upload_bytes: num,
      last_30d_total_bytes: num,
    }),
  },
  'The dashboard snapshot, recomputed every STATS_REFRESH_INTERVAL',
)

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
  },
  ['enabled', 'last_update', 'update_interval'],
)
export const cacheStatsBody = object({
  caches: arrayOf(cacheReportEntry),
  redis: {
    type: 'object',
    properties: { type: { enum: ['redis', 'memory'] }, enabled: bool, connected: bool, state: str, last_error: nullable('string') },
    required: ['type', 'enabled', 'connected', 'state', 'last_error'],
    additionalProperties: true,
  },
  redis_keys_expected: arrayOf(str),
  timestamp: dateTime,
})
export const cacheClearBody = object({ success: { const: true }, message: str, redis_cleared: bool, cleared: arrayOf(str) })
export const cacheWarmBody = object({ success: bool, message: str, warmed: arrayOf(str), failed: arrayOf(object({ name: str, detail: str })) })

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

export const textBody = (mediaType: string, description: string) => ({ description, content: { [mediaType]: { schema: str } } })

/** The `schema` of a route: its tag, summary and responses (an error body for every 4xx and 5xx). */
export function routeDoc(tag: string, summary: string, responses: Record<string, unknown>, request: Schema = {}): Schema {
  return { tags: [tag], summary, ...request, response: { ...responses, '4xx': errorBody, '5xx': errorBody } }
}
