import type { DbSource } from './connection.js'

export type SettingsRepo = ReturnType<typeof createSettingsRepo>

/**
 * Key/value settings stored as JSON (e.g. the Plex config set through the API). An SQLite file
 * is created readable by this user only, since a Plex token may be kept here.
 */
export function createSettingsRepo(source: DbSource) {
  return {
    async get<T>(key: string): Promise<T | undefined> {
      const row = await source.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst()
      return row ? (JSON.parse(row.value) as T) : undefined
    },
    async set(key: string, value: unknown, at: number): Promise<void> {
      await source.db
        .insertInto('settings')
        .values({ key, value: JSON.stringify(value), updated_at: at })
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), updated_at: eb.ref('excluded.updated_at') })),
        )
        .execute()
    },
    async delete(key: string): Promise<boolean> {
      const result = await source.db.deleteFrom('settings').where('key', '=', key).executeTakeFirst()
      return result.numDeletedRows > 0n
    },
  }
}
