import type { DbSource } from './connection.js'
import type { ViewersTable } from './schema.js'

/** A viewer account as stored: the password only as its scrypt hash. */
export interface StoredViewer {
  readonly username: string
  readonly passwordHash: string
  readonly plexAccountId: number
  /** Unix ms. */
  readonly createdAt: number
}

export type ViewersRepo = ReturnType<typeof createViewersRepo>

const stored = (row: ViewersTable): StoredViewer => ({
  username: row.username,
  passwordHash: row.password_hash,
  plexAccountId: row.plex_account_id,
  createdAt: row.created_at,
})

/** The viewer accounts the admin made (`/api/viewers`). */
export function createViewersRepo(source: DbSource) {
  return {
    async get(username: string): Promise<StoredViewer | undefined> {
      const row = await source.db.selectFrom('viewers').selectAll().where('username', '=', username).executeTakeFirst()
      return row && stored(row)
    },
    async list(): Promise<StoredViewer[]> {
      return (await source.db.selectFrom('viewers').selectAll().orderBy('username').execute()).map(stored)
    },
    /** False when the name is taken. */
    async add(viewer: StoredViewer): Promise<boolean> {
      const result = await source.db
        .insertInto('viewers')
        .values({
          username: viewer.username,
          password_hash: viewer.passwordHash,
          plex_account_id: viewer.plexAccountId,
          created_at: viewer.createdAt,
        })
        .onConflict((oc) => oc.column('username').doNothing())
        .executeTakeFirst()
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n
    },
    async delete(username: string): Promise<boolean> {
      const result = await source.db.deleteFrom('viewers').where('username', '=', username).executeTakeFirst()
      return result.numDeletedRows > 0n
    },
  }
}
