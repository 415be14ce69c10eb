import type { DbSource } from './connection.js'

export interface PlexStatsRecord {
  readonly peakConcurrent: number
  /** Unix ms of the last change of the peak; null when never set. */
  readonly lastUpdated: number | null
}

export type PlexStatsRepo = ReturnType<typeof createPlexStatsRepo>

export function createPlexStatsRepo(source: DbSource) {
  const get = async (): Promise<PlexStatsRecord> => {
    const row = await source.db
      .selectFrom('plex_stats')
      .select(['peak_concurrent', 'last_updated'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow()
    return { peakConcurrent: row.peak_concurrent, lastUpdated: row.last_updated }
  }

  return {
    get,
    /** Stores `peak` when it is higher than the stored one; returns the stored stats either way. */
    async raisePeak(peak: number, at: number): Promise<PlexStatsRecord> {
      // One statement, so two concurrent raises cannot lower each other's peak.
      await source.db
        .updateTable('plex_stats')
        .set({ peak_concurrent: peak, last_updated: at })
        .where('id', '=', 1)
        .where('peak_concurrent', '<', peak)
        .execute()
      return get()
    },
    async resetPeak(at: number): Promise<PlexStatsRecord> {
      await source.db
        .updateTable('plex_stats')
        .set({ peak_concurrent: 0, last_updated: at })
        .where('id', '=', 1)
        .execute()
      return get()
    },
  }
}
