import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { migrate } from './migrations.js'

export type Db = Database.Database

/**
 * Opens (creating folder and file when needed) and migrates the service's SQLite database.
 * `:memory:` gives a private in-memory database, for tests.
 */
export function openDatabase(path: string): Db {
  const inMemory = path === ':memory:'
  let created = false
  if (!inMemory) {
    const file = resolve(path)
    // The file holds the Plex token saved through the API: only this user may read it.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    created = !existsSync(file)
  }
  let db: Db
  try {
    db = new Database(path)
  } catch (error) {
    throw new Error(`DATABASE_PATH "${path}" cannot be opened as an SQLite database: ${(error as Error).message}`, { cause: error })
  }
  if (created) chmodSync(path, 0o600)
  if (!inMemory) db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  try {
    migrate(db)
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

/** Folds the WAL back into the main file and closes; safe to call twice. */
export function closeDatabase(db: Db): void {
  if (!db.open) return
  if (db.memory === false) {
    try {
      db.pragma('wal_checkpoint(TRUNCATE)')
    } catch {
      // A checkpoint blocked by another connection still leaves a consistent WAL; close anyway.
    }
  }
  db.close()
}
