import type { WatchHistoryQuery } from '../../db/index.js'
import type { WatchHistoryRow } from '../history/watch-history-rows.js'
import { arrayOf, dateTime, int, nullable, num, object, str } from '../../json-schema.js'
import { declareCache } from './declaration.js'

export const WATCH_HISTORY_DEFAULT_LIMIT = 500
export const WATCH_HISTORY_MAX_LIMIT = 5000

/** Far past any real history (a busy server logs ~250,000 plays a decade). */
const MAX_OFFSET = 100_000_000

const listQuerySchema = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: WATCH_HISTORY_MAX_LIMIT, default: WATCH_HISTORY_DEFAULT_LIMIT },
    offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 },
    // Plex account ids: 1 for the owner, plex.tv ids for the others.
    user_id: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
} as const

/**
 * `watch_history`: rows of the synced SQLite table, keyed by the normalized query
 * (`plex:watch_history:limit=500:offset=0`); synced rows clear it. Served from SQLite, so it
 * answers whether or not Plex is up; its thumbs link to the configured server.
 */
export const watchHistoryCache = declareCache<WatchHistoryRow[], WatchHistoryQuery>({
  name: 'watch_history',
  key: 'plex:watch_history',
  ttl: { env: 'CACHE_WATCH_HISTORY_TTL', defaultSeconds: 300 },
  plexServer: 'derived',
  routes: [
    {
      paths: ['/api/plex/watch-history'],
      what: 'the watch history',
      summary: 'Watched items, newest first, from SQLite (filled by the sync; cached per query: watch_history)',
      body: arrayOf(
        object({
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
        }),
      ),
      shape: 'array',
      // Komandorr's frontend asks for 500 rows; larger pages are the ones that cost real work.
      heavy: ({ limit }) => limit > 500,
      query: {
        schema: listQuerySchema,
        args: (query) => {
          const { limit, offset, user_id: userId } = query as { limit: number; offset: number; user_id?: number }
          return userId === undefined ? { limit, offset } : { limit, offset, userId }
        },
      },
    },
  ],
  // A viewer's history is their own rows, in their scope; `user_id` may only name them.
  viewers: {
    kind: 'own',
    args(query, viewer) {
      if (query.userId !== undefined && query.userId !== viewer.plexAccountId) {
        return {
          forbidden: `A viewer sees only their own watch history: user_id ${query.userId} is not your Plex account (${viewer.plexAccountId})`,
        }
      }
      return { args: { ...query, userId: viewer.plexAccountId } }
    },
  },
  keyOf: watchHistoryKey,
  warmArgs: [{ limit: WATCH_HISTORY_DEFAULT_LIMIT, offset: 0 }],
  // Clients page with any limit and offset: 1,000 pages of 5,000 rows were 125 MB in Redis for
  // 65 min. At most 50 pages (24 MiB) are kept; a page other than the first lives one TTL past its own.
  bounds: { maxKeys: 50, maxBytes: 24 * 1024 * 1024 },
  load({ plex, historyPages }, query, signal) {
    return historyPages.page(query, plex.configured ? plex.client().baseUrl : undefined, signal)
  },
})

export function watchHistoryKey(query: WatchHistoryQuery): string {
  const user = query.userId === undefined ? '' : `:user_id=${query.userId}`
  return `limit=${query.limit}:offset=${query.offset ?? 0}${user}`
}
