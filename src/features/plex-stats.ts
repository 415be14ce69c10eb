import type { Cache, CacheRegistry, Clock } from '../cache/index.js'
import type { PlexStatsRecord, PlexStatsRepo } from '../db/index.js'
import type { PlexConnection } from './plex-connection.js'
import type { LiveStatsValue } from './live-stats.js'

/** `GET /api/plex/stats` (SPEC §3). */
export interface PlexStatsValue {
  peak_concurrent: number
  /** UTC ISO 8601 of the last change of the peak; null when never set. */
  last_updated: string | null
  /** The server's base URL, never with the token. */
  server_url: string
  server_name: string
  token_configured: boolean
  total_users: number
  total_movies: number
  total_tv_shows: number
}

/** `POST /api/plex/stats/peak` and `/stats/reset`. */
export interface PeakAnswer {
  success: true
  peak_concurrent: number
  last_updated: string | null
}

export interface PlexStatsOptions {
  readonly registry: CacheRegistry
  readonly repo: PlexStatsRepo
  readonly plex: PlexConnection
  /** Where the PMS totals come from: one fetch serves both caches, and a peak change costs Plex nothing. */
  readonly liveStats: Cache<LiveStatsValue>
  /** CACHE_STATS_TTL. */
  readonly ttlMs: number
  /** PLEX_SERVER_NAME, shown until the server's own name is known. */
  readonly defaultServerName: string
  /** Stamps `last_updated`. */
  readonly clock: Clock
  /** Busts what shows the peak besides `plex_stats` (the dashboard's `background_stats`). */
  readonly onPeakChanged: () => Promise<void>
}

/**
 * The stored peak of concurrent streams plus PMS totals: the `plex_stats` cache, and the two
 * writes that change the peak (each busting `plex_stats` and the dashboard).
 */
export class PlexStats {
  readonly cache: Cache<PlexStatsValue>

  constructor(private readonly options: PlexStatsOptions) {
    const { registry, repo, plex, ttlMs } = options
    this.cache = registry.define<PlexStatsValue>({
      name: 'plex_stats',
      key: 'plex:stats',
      ttlMs,
      load: async () => {
        const client = plex.client()
        const live = await options.liveStats.read()
        // Totals Plex could not confirm are not fresh: let plex_stats serve its own stale value.
        // (A stale read without an error is only a value being refreshed: its totals are fine.)
        if (live.outcome === 'stale' && live.error !== undefined) throw live.error
        const totals = live.entry.value
        return {
          ...peakFields(await repo.get()),
          server_url: client.baseUrl,
          server_name: this.serverName(),
          token_configured: true,
          total_users: totals.total_users,
          total_movies: totals.total_movies,
          total_tv_shows: totals.total_tv_shows,
        }
      },
    })
  }

  /** What `GET /api/plex/stats` answers while no Plex server is configured: the peak and zeros, not cached. */
  async notConfigured(): Promise<PlexStatsValue> {
    return {
      ...peakFields(await this.options.repo.get()),
      server_url: '',
      server_name: this.serverName(),
      token_configured: false,
      total_users: 0,
      total_movies: 0,
      total_tv_shows: 0,
    }
  }

  /** Stores `peak` when it is higher than the stored peak. */
  async raisePeak(peak: number): Promise<PeakAnswer> {
    const before = await this.options.repo.get()
    const after = await this.options.repo.raisePeak(peak, this.options.clock.wallNow())
    if (after.peakConcurrent !== before.peakConcurrent || after.lastUpdated !== before.lastUpdated) await this.peakChanged()
    return { success: true, ...peakFields(after) }
  }

  async resetPeak(): Promise<PeakAnswer> {
    const after = await this.options.repo.resetPeak(this.options.clock.wallNow())
    await this.peakChanged()
    return { success: true, ...peakFields(after) }
  }

  private async peakChanged(): Promise<void> {
    await Promise.all([this.cache.invalidate(), this.options.onPeakChanged()])
  }

  private serverName(): string {
    return this.options.plex.settings?.serverName || this.options.defaultServerName
  }
}

function peakFields(record: PlexStatsRecord): { peak_concurrent: number; last_updated: string | null } {
  return {
    peak_concurrent: record.peakConcurrent,
    last_updated: record.lastUpdated === null ? null : new Date(record.lastUpdated).toISOString(),
  }
}
