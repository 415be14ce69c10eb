import type { Clock } from '../../cache/index.js'
import type { PlexStatsRepo } from '../../db/index.js'
import type { CacheLookup } from '../caches/declaration.js'
import { dashboardStatsCache } from '../caches/dashboard-stats.js'
import { peakFields, plexStatsCache } from '../caches/plex-stats.js'

/** `POST /api/plex/stats/peak` and `/stats/reset`. */
export interface PeakAnswer {
  success: true
  peak_concurrent: number
  last_updated: string | null
}

export interface PlexPeakOptions {
  readonly repo: PlexStatsRepo
  /** Stamps `last_updated`. */
  readonly clock: Clock
  readonly caches: CacheLookup
}

/** The two writes that change the stored peak; each invalidates what shows it (`plex_stats`, `background_stats`). */
export class PlexPeak {
  constructor(private readonly options: PlexPeakOptions) {}

  /** Stores `peak` when it is higher than the stored peak. */
  async raise(peak: number): Promise<PeakAnswer> {
    const before = await this.options.repo.get()
    const after = await this.options.repo.raisePeak(peak, this.options.clock.wallNow())
    if (after.peakConcurrent !== before.peakConcurrent || after.lastUpdated !== before.lastUpdated) await this.changed()
    return { success: true, ...peakFields(after) }
  }

  async reset(): Promise<PeakAnswer> {
    const after = await this.options.repo.resetPeak(this.options.clock.wallNow())
    await this.changed()
    return { success: true, ...peakFields(after) }
  }

  private async changed(): Promise<void> {
    const { caches } = this.options
    await Promise.all([caches(plexStatsCache).invalidate(), caches(dashboardStatsCache).invalidate()])
  }
}
