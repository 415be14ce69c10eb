// Offset pages start at the day their offset falls in (plays per day, migration 5): every page
// must still be exactly the plain `ORDER BY viewed_at DESC, id DESC LIMIT … OFFSET …`, whatever
// the writes did to the day counts.
import { sql } from 'kysely'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  createRepos,
  migrate,
  migrations,
  type Database,
  type Repos,
  type WatchHistoryEntry,
} from '../../src/db/index.js'
import { ENGINES, freshDatabases } from '../support/databases.js'

const DAY = 86_400

const play = (viewedAt: number, userId: number | null, key: string): WatchHistoryEntry => ({
  userId,
  userName: userId === null ? null : `user${userId}`,
  type: 'movie',
  title: key,
  grandparentTitle: null,
  parentIndex: null,
  index: null,
  viewedAt,
  duration: null,
  viewOffset: null,
  progress: null,
  viewCount: null,
  rating: null,
  year: null,
  thumb: null,
  contentRating: null,
  studio: null,
  summary: null,
  genres: [],
  ratingKey: key,
  historyKey: `/h/${key}`,
  librarySectionId: null,
})

/** Plays on the edges of days (the last and first second), several in one second, before 1970, without a user. */
function history(): WatchHistoryEntry[] {
  const seconds = [
    -DAY - 1,
    -DAY,
    -1,
    0,
    1,
    5 * DAY - 1,
    5 * DAY,
    5 * DAY,
    5 * DAY + 1,
    19_000 * DAY - 1,
    19_000 * DAY,
    19_000 * DAY + 3_600,
    19_002 * DAY,
  ]
  const out: WatchHistoryEntry[] = []
  seconds.forEach((s, i) => {
    for (let k = 0; k < 1 + (i % 3); k++) out.push(play(s, [1, 2, null][(i + k) % 3]!, `${i}-${k}`))
  })
  return out
}

describe.each(ENGINES)('watch-history offset pages on %s', (engine) => {
  const { fresh } = freshDatabases(engine)
  let db: Database
  let repos: Repos

  /** The plain offset read, walked from the newest row: what every page must equal. */
  const plainPage = async (limit: number, offset: number, userId?: number) => {
    let q = db.kysely.selectFrom('watch_history').select('history_key')
    if (userId !== undefined) q = q.where('user_id', '=', userId)
    const rows = await q.orderBy('viewed_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute()
    return rows.map((r) => r.history_key)
  }

  const expectEveryPageExact = async () => {
    const total = Number(
      (await sql<{ n: number }>`SELECT COUNT(*) AS n FROM watch_history`.execute(db.kysely)).rows[0]!.n,
    )
    for (const userId of [undefined, 1, 2, 3]) {
      for (const limit of [1, 4]) {
        for (let offset = 0; offset <= total + 1; offset++) {
          const page = (await repos.watchHistory.list({ limit, offset, userId })).map((r) => r.historyKey)
          expect(page, `limit ${limit} offset ${offset} user ${userId}`).toEqual(await plainPage(limit, offset, userId))
        }
      }
    }
    return total
  }

  beforeEach(async () => {
    db = await fresh()
  })

  it('gives at every offset the rows of the plain offset read, older plays synced after newer ones and re-synced plays included', async () => {
    await migrate(db.kysely, engine)
    repos = createRepos({ db: db.kysely, engine })
    const plays = history()
    // A sync stores the newest page first, then older ones; a re-sync stores nothing twice.
    await repos.watchHistory.insertBatch(plays.slice(plays.length / 2))
    await repos.watchHistory.insertBatch(plays.slice(0, plays.length / 2))
    await repos.watchHistory.insertBatch(plays.slice(3, 12))
    expect(await expectEveryPageExact()).toBe(plays.length)
    expect((await repos.watchHistory.list({ limit: 3 })).map((r) => r.title)).toEqual(['12-0', '11-2', '11-1'])
    expect(await repos.watchHistory.list({ limit: 3, offset: plays.length })).toEqual([])
  })

  it('stays exact after rows are deleted, moved to another day or user, or all removed', async () => {
    await migrate(db.kysely, engine)
    repos = createRepos({ db: db.kysely, engine })
    await repos.watchHistory.insertBatch(history())
    await db.kysely.deleteFrom('watch_history').where('title', 'in', ['4-0', '9-0', '12-0']).execute()
    await db.kysely
      .updateTable('watch_history')
      .set({ viewed_at: 3 * DAY })
      .where('title', '=', '10-1')
      .execute()
    await db.kysely.updateTable('watch_history').set({ user_id: 2 }).where('title', 'in', ['8-0', '2-1']).execute()
    await db.kysely.updateTable('watch_history').set({ user_id: null }).where('title', '=', '7-1').execute()
    expect(await expectEveryPageExact()).toBe(history().length - 3)

    if (engine === 'postgres') await sql`TRUNCATE watch_history`.execute(db.kysely)
    else await db.kysely.deleteFrom('watch_history').execute()
    await repos.watchHistory.insertBatch(history().slice(0, 5))
    expect(await expectEveryPageExact()).toBe(5)
  })

  it('counts the rows stored before the day counts existed', async () => {
    await migrate(
      db.kysely,
      engine,
      migrations.filter((m) => m.version < 5),
    )
    await createRepos({ db: db.kysely, engine }).watchHistory.insertBatch(history())
    await migrate(db.kysely, engine)
    repos = createRepos({ db: db.kysely, engine })
    await repos.watchHistory.insertBatch([play(19_001 * DAY, 1, 'late')])
    expect(await expectEveryPageExact()).toBe(history().length + 1)
  })
})
