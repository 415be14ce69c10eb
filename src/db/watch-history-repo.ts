import type { Db } from './database.js'

/** One play of one item by one user, as synced from Plex's history. */
export interface WatchHistoryEntry {
  readonly userId: number | null
  /** Plex account name; the API serves it as `email`, as Komandorr's frontend expects. */
  readonly userName: string | null
  readonly type: string | null
  readonly title: string
  readonly grandparentTitle: string | null
  readonly parentIndex: number | null
  readonly index: number | null
  /** Unix seconds, as Plex gives it. */
  readonly viewedAt: number
  /** Seconds. */
  readonly duration: number | null
  /** Seconds. */
  readonly viewOffset: number | null
  readonly progress: number | null
  readonly viewCount: number | null
  readonly rating: number | null
  readonly year: number | null
  /** A Plex path like `/library/metadata/1/thumb/2`; a token in it is removed on insert. */
  readonly thumb: string | null
  readonly contentRating: string | null
  readonly studio: string | null
  readonly summary: string | null
  readonly genres: readonly string[]
  readonly ratingKey: string | null
  readonly historyKey: string | null
  readonly librarySectionId: string | null
}

export interface WatchHistoryQuery {
  readonly limit: number
  readonly offset?: number
  readonly userId?: number
}

interface Row {
  user_id: number | null
  user_name: string | null
  type: string | null
  title: string
  grandparent_title: string | null
  parent_index: number | null
  index: number | null
  viewed_at: number
  duration: number | null
  view_offset: number | null
  progress: number | null
  view_count: number | null
  rating: number | null
  year: number | null
  thumb: string | null
  content_rating: string | null
  studio: string | null
  summary: string | null
  genres: string
  rating_key: string | null
  history_key: string | null
  library_section_id: string | null
}

const toEntry = (row: Row): WatchHistoryEntry => ({
  userId: row.user_id,
  userName: row.user_name,
  type: row.type,
  title: row.title,
  grandparentTitle: row.grandparent_title,
  parentIndex: row.parent_index,
  index: row.index,
  viewedAt: row.viewed_at,
  duration: row.duration,
  viewOffset: row.view_offset,
  progress: row.progress,
  viewCount: row.view_count,
  rating: row.rating,
  year: row.year,
  thumb: row.thumb,
  contentRating: row.content_rating,
  studio: row.studio,
  summary: row.summary,
  genres: JSON.parse(row.genres) as string[],
  ratingKey: row.rating_key,
  historyKey: row.history_key,
  librarySectionId: row.library_section_id,
})

const withoutToken = (path: string | null): string | null =>
  path === null ? null : path.replace(/([?&])x-plex-token=[^&#]*&?/gi, '$1').replace(/[?&]$/, '')

export type WatchHistoryRepo = ReturnType<typeof createWatchHistoryRepo>

export function createWatchHistoryRepo(db: Db) {
  const insertOne = db.prepare(
    `INSERT OR IGNORE INTO watch_history
       (user_id, user_name, type, title, grandparent_title, parent_index, "index", viewed_at, duration, view_offset,
        progress, view_count, rating, year, thumb, content_rating, studio, summary, genres, rating_key, history_key,
        library_section_id)
     VALUES
       (@userId, @userName, @type, @title, @grandparentTitle, @parentIndex, @index, @viewedAt, @duration, @viewOffset,
        @progress, @viewCount, @rating, @year, @thumb, @contentRating, @studio, @summary, @genres, @ratingKey, @historyKey,
        @librarySectionId)`,
  )
  const selectPage = db.prepare<[number, number], Row>('SELECT * FROM watch_history ORDER BY viewed_at DESC, id DESC LIMIT ? OFFSET ?')
  const selectUserPage = db.prepare<[number, number, number], Row>(
    'SELECT * FROM watch_history WHERE user_id = ? ORDER BY viewed_at DESC, id DESC LIMIT ? OFFSET ?',
  )
  const selectNewest = db.prepare<[], { newest: number | null }>('SELECT MAX(viewed_at) AS newest FROM watch_history')
  const countAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM watch_history')

  return {
    /**
     * Inserts the entries in one transaction, skipping any already stored (same user, item and
     * viewed time). Returns how many were new and the newest viewedAt among the new ones.
     */
    insertBatch: db.transaction((entries: readonly WatchHistoryEntry[]): { added: number; newestViewedAt: number | null } => {
      let added = 0
      let newestViewedAt: number | null = null
      for (const entry of entries) {
        const changes = insertOne.run({ ...entry, thumb: withoutToken(entry.thumb), genres: JSON.stringify(entry.genres) }).changes
        if (changes > 0) {
          added++
          if (newestViewedAt === null || entry.viewedAt > newestViewedAt) newestViewedAt = entry.viewedAt
        }
      }
      return { added, newestViewedAt }
    }),

    /** Newest first. */
    list({ limit, offset = 0, userId }: WatchHistoryQuery): WatchHistoryEntry[] {
      const rows = userId === undefined ? selectPage.all(limit, offset) : selectUserPage.all(userId, limit, offset)
      return rows.map(toEntry)
    },

    /** The newest viewedAt stored (unix s): where an incremental sync resumes. */
    newestViewedAt: (): number | null => selectNewest.get()!.newest,

    count: (): number => countAll.get()!.n,
  }
}
