// The watch history as `GET /api/plex/watch-history` answers it: rows of the synced table in
// Komandorr's shape, and a whole page of them serialized in one go (on the history worker, see
// history-pages.ts, or inline for an in-memory database).
import { etagOf, Serialized } from '../../cache/entry.js'
import type { WatchHistoryEntry, WatchHistoryQuery, WatchHistoryRepo } from '../../db/index.js'
import { plexImageUrl } from '../../plex/image-url.js'

/** One row of `GET /api/plex/watch-history`, as Komandorr's frontend reads it. */
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

/** A page of the history, read, shaped and serialized: what the `watch_history` cache stores. */
export async function historyPage(
  repo: Pick<WatchHistoryRepo, 'list'>,
  query: WatchHistoryQuery,
  plexBaseUrl: string | undefined,
): Promise<Serialized<WatchHistoryRow[]>> {
  const json = JSON.stringify((await repo.list(query)).map((entry) => watchHistoryRow(entry, plexBaseUrl)))
  return new Serialized(json, etagOf(json), Buffer.byteLength(json))
}
