import type { Cache, CacheRegistry } from '../cache/index.js'
import type { WatchHistoryEntry, WatchHistoryRepo } from '../db/index.js'
import type { PlexConnection } from './plex-connection.js'
import { plexImageUrl } from './plex-image-url.js'

/** A normalized `GET /api/plex/watch-history` query: what the cache keys on. */
export interface WatchHistoryQuery {
  readonly limit: number
  readonly offset: number
  readonly userId?: number
}

export const WATCH_HISTORY_DEFAULT_LIMIT = 500
export const WATCH_HISTORY_MAX_LIMIT = 5000

/** One row of `GET /api/plex/watch-history`, as Komandorr's frontend reads it (SPEC §3). */
export interface WatchHistoryRow {
  user_id: number | null
  /** The Plex user name: Komandorr's frontend shows this field as the user. */
  email: string | null
  type: string | null
  title: string
  grandparent_title: string | null
  parent_index: number | null
  index: number | null
  /** UTC ISO 8601. */
  viewed_at: string
  /** Seconds; 0 when unknown (an item deleted before it was synced). */
  duration: number
  /** Seconds. */
  view_offset: number
  /** Percent, two decimals. */
  progress: number
  view_count: number
  rating: number | null
  year: number | null
  /** `/api/plex/proxy/image?url=<absolute Plex URL>`: the frontend uses it as an img src as is. */
  thumb: string | null
  content_rating: string | null
  studio: string | null
  summary: string | null
  genres: string[]
}

export type WatchHistoryCache = Cache<WatchHistoryRow[], WatchHistoryQuery>

/**
 * `watch_history`: rows of the synced SQLite table, keyed by the normalized query
 * (`plex:watch_history:limit=500:offset=0`). Synced rows bust it (see watch-history-sync.ts).
 */
export function defineWatchHistoryCache(
  registry: CacheRegistry,
  repo: WatchHistoryRepo,
  plex: PlexConnection,
  ttlMs: number,
): WatchHistoryCache {
  const cache = registry.define<WatchHistoryRow[], WatchHistoryQuery>({
    name: 'watch_history',
    key: 'plex:watch_history',
    keyOf: watchHistoryKey,
    warmArgs: [{ limit: WATCH_HISTORY_DEFAULT_LIMIT, offset: 0 }],
    ttlMs,
    load: async (query) => {
      const baseUrl = plex.configured ? plex.client().baseUrl : undefined
      return (await repo.list(query)).map((entry) => watchHistoryRow(entry, baseUrl))
    },
  })
  return cache
}

export function watchHistoryKey(query: WatchHistoryQuery): string {
  const user = query.userId === undefined ? '' : `:user_id=${query.userId}`
  return `limit=${query.limit}:offset=${query.offset}${user}`
}

export function watchHistoryRow(entry: WatchHistoryEntry, plexBaseUrl: string | undefined): WatchHistoryRow {
  const duration = entry.duration ?? 0
  const viewOffset = entry.viewOffset ?? 0
  return {
    user_id: entry.userId,
    email: entry.userName,
    type: entry.type,
    title: entry.title,
    grandparent_title: entry.grandparentTitle,
    parent_index: entry.parentIndex,
    index: entry.index,
    viewed_at: new Date(entry.viewedAt * 1000).toISOString(),
    duration,
    view_offset: viewOffset,
    progress: entry.progress ?? 0,
    view_count: entry.viewCount ?? 1,
    rating: entry.rating,
    year: entry.year,
    thumb: proxiedThumb(entry.thumb, plexBaseUrl),
    content_rating: entry.contentRating,
    studio: entry.studio,
    summary: entry.summary,
    genres: [...entry.genres],
  }
}

function proxiedThumb(thumb: string | null, plexBaseUrl: string | undefined): string | null {
  if (thumb === null || plexBaseUrl === undefined) return null
  const absolute = plexImageUrl(plexBaseUrl, thumb)
  return absolute === null ? null : `/api/plex/proxy/image?url=${encodeURIComponent(absolute)}`
}
