import type { Db } from './database.js'

export interface PlexStatsRecord {
  readonly peakConcurrent: number
  /** Unix ms of the last change of the peak; null when never set. */
  readonly lastUpdated: number | null
}

export type PlexStatsRepo = ReturnType<typeof createPlexStatsRepo>

export function createPlexStatsRepo(db: Db) {
  const select = db.prepare<[], { peak_concurrent: number; last_updated: number | null }>(
    'SELECT peak_concurrent, last_updated FROM plex_stats WHERE id = 1',
  )
  // One statement, so two concurrent raises cannot lower each other's peak.
  const raise = db.prepare('UPDATE plex_stats SET peak_concurrent = @peak, last_updated = @at WHERE id = 1 AND peak_concurrent < @peak')
  const reset = db.prepare('UPDATE plex_stats SET peak_concurrent = 0, last_updated = @at WHERE id = 1')

  const get = (): PlexStatsRecord => {
    const row = select.get()!
    return { peakConcurrent: row.peak_concurrent, lastUpdated: row.last_updated }
  }

  return {
    get,
    /** Stores `peak` when it is higher than the stored one; returns the stored stats either way. */
    raisePeak(peak: number, at: number): PlexStatsRecord {
      raise.run({ peak, at })
      return get()
    },
    resetPeak(at: number): PlexStatsRecord {
      reset.run({ at })
      return get()
    },
  }
}
