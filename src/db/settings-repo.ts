import type { Db } from './database.js'

export type SettingsRepo = ReturnType<typeof createSettingsRepo>

/**
 * Key/value settings stored as JSON (e.g. the Plex config set through the API). The database
 * file is created readable by this user only, since a Plex token may be kept here.
 */
export function createSettingsRepo(db: Db) {
  const select = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
  const upsert = db.prepare(
    'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  )
  const remove = db.prepare('DELETE FROM settings WHERE key = ?')

  return {
    get<T>(key: string): T | undefined {
      const row = select.get(key)
      return row ? (JSON.parse(row.value) as T) : undefined
    },
    set(key: string, value: unknown, at: number): void {
      upsert.run(key, JSON.stringify(value), at)
    },
    delete: (key: string): boolean => remove.run(key).changes > 0,
  }
}
