import { sql, type Insertable, type Selectable } from 'kysely'
import type { DbSource } from './connection.js'
import type { WatchHistoryTable } from './schema.js'

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

const toEntry = (row: Selectable<WatchHistoryTable>): WatchHistoryEntry => ({
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

const toRow = (entry: WatchHistoryEntry): Insertable<WatchHistoryTable> => ({
  user_id: entry.userId,
  user_name: entry.userName,
  type: entry.type,
  title: entry.title,
  grandparent_title: entry.grandparentTitle,
  parent_index: entry.parentIndex,
  index: entry.index,
  viewed_at: entry.viewedAt,
  duration: entry.duration,
  view_offset: entry.viewOffset,
  progress: entry.progress,
  view_count: entry.viewCount,
  rating: entry.rating,
  year: entry.year,
  thumb: withoutToken(entry.thumb),
  content_rating: entry.contentRating,
  studio: entry.studio,
  summary: entry.summary,
  genres: JSON.stringify(entry.genres),
  rating_key: entry.ratingKey,
  history_key: entry.historyKey,
  library_section_id: entry.librarySectionId,
})

/** 23 values a row: 500 rows stay under SQLite's 32,766 bound variables per statement. */
const ROWS_PER_STATEMENT = 500

export function createWatchHistoryRepo(source: DbSource) {
  return {
    /**
     * Inserts the entries in one transaction, skipping any already stored (the same Plex play:
     * its historyKey, else the same user, item and second). Returns how many were new and the
     * newest viewedAt among the new ones.
     */
    insertBatch(entries: readonly WatchHistoryEntry[]): Promise<{ added: number; newestViewedAt: number | null }> {
      return source.db.transaction().execute(async (trx) => {
        let added = 0
        let newestViewedAt: number | null = null
        for (let i = 0; i < entries.length; i += ROWS_PER_STATEMENT) {
          const inserted = await trx
            .insertInto('watch_history')
            .values(entries.slice(i, i + ROWS_PER_STATEMENT).map(toRow))
            .onConflict((oc) => oc.doNothing())
            .returning('viewed_at')
            .execute()
          added += inserted.length
          for (const { viewed_at } of inserted)
            if (newestViewedAt === null || viewed_at > newestViewedAt) newestViewedAt = viewed_at
        }
        return { added, newestViewedAt }
      })
    },

    /**
     * Newest first (ties of a second: the later insert first). A deep OFFSET is not walked from
     * the newest row: the plays per day (migration 5) give the day the offset falls in and how
     * many rows are newer, so the paging index is entered at that day and walked for the rest of
     * the offset only (less than a day's plays). The ids come from the index alone and only the
     * page's rows are read from the table. One statement: one snapshot of counts and rows.
     */
    async list({ limit, offset = 0, userId }: WatchHistoryQuery): Promise<WatchHistoryEntry[]> {
      const days =
        userId === undefined ? sql`watch_history_days` : sql`watch_history_user_days WHERE user_id = ${userId}`
      const sameUser = userId === undefined ? sql`` : sql`user_id = ${userId} AND`
      const { rows } = await sql<Selectable<WatchHistoryTable>>`
        WITH days AS (
          SELECT day, plays, CAST(SUM(plays) OVER (ORDER BY day DESC ROWS UNBOUNDED PRECEDING) AS BIGINT) AS through
          FROM ${days}
        ), start AS (
          SELECT day, through - plays AS newer FROM days WHERE through > ${offset} ORDER BY day DESC LIMIT 1
        )
        SELECT * FROM watch_history WHERE id IN (
          SELECT id FROM watch_history
          WHERE ${sameUser} viewed_at < (SELECT (day + 1) * 86400 FROM start)
          ORDER BY viewed_at DESC, id DESC
          LIMIT ${limit} OFFSET COALESCE((SELECT ${offset} - newer FROM start), 0)
        )
        ORDER BY viewed_at DESC, id DESC`.execute(source.db)
      return rows.map(toEntry)
    },

    /** The newest viewedAt stored (unix s): where an incremental sync resumes. */
    async newestViewedAt(): Promise<number | null> {
      const row = await source.db
        .selectFrom('watch_history')
        .select((eb) => eb.fn.max('viewed_at').as('newest'))
        .executeTakeFirstOrThrow()
      return row.newest === null ? null : Number(row.newest)
    },

    async count(): Promise<number> {
      const row = await source.db
        .selectFrom('watch_history')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },
  }
}
