import type { Db } from './database.js'

/** A viewer account as stored: the password only as its scrypt hash. */
export interface StoredViewer {
  readonly username: string
  readonly passwordHash: string
  readonly plexAccountId: number
  /** Unix ms. */
  readonly createdAt: number
}

export type ViewersRepo = ReturnType<typeof createViewersRepo>

interface ViewerRow {
  username: string
  password_hash: string
  plex_account_id: number
  created_at: number
}

const stored = (row: ViewerRow): StoredViewer => ({
  username: row.username,
  passwordHash: row.password_hash,
  plexAccountId: row.plex_account_id,
  createdAt: row.created_at,
})

/** The viewer accounts the admin made (`/api/viewers`). */
export function createViewersRepo(db: Db) {
  const select = db.prepare<[string], ViewerRow>('SELECT * FROM viewers WHERE username = ?')
  const selectAll = db.prepare<[], ViewerRow>('SELECT * FROM viewers ORDER BY username')
  const insert = db.prepare('INSERT INTO viewers (username, password_hash, plex_account_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (username) DO NOTHING')
  const remove = db.prepare('DELETE FROM viewers WHERE username = ?')

  return {
    get(username: string): StoredViewer | undefined {
      const row = select.get(username)
      return row && stored(row)
    },
    list: (): StoredViewer[] => selectAll.all().map(stored),
    /** False when the name is taken. */
    add: (viewer: StoredViewer): boolean => insert.run(viewer.username, viewer.passwordHash, viewer.plexAccountId, viewer.createdAt).changes > 0,
    delete: (username: string): boolean => remove.run(username).changes > 0,
  }
}
