import type { Cache, Clock } from '../../cache/index.js'
import type { PlexStatsRepo, ServicesRepo } from '../../db/index.js'
import type { BackgroundJob } from '../../jobs/background-job.js'
import { PeriodicJob } from '../../jobs/periodic-job.js'
import type { Logger } from '../../logger.js'
import type { PlexConnection } from '../../plex/plex-connection.js'
import { DAY_MS, type TrafficLog } from '../traffic/traffic-log.js'
import { dashboardStatsCache } from '../caches/dashboard-stats.js'
import type { CacheLookup } from '../caches/declaration.js'
import { liveStatsCache } from '../caches/live-stats.js'
import type { DashboardSnapshot, DashboardStatsValue } from './dashboard-snapshot.js'

type PlexTotals = Pick<
  DashboardStatsValue['plex'],
  'total_users' | 'total_movies' | 'total_tv_shows' | 'total_seasons' | 'total_episodes'
>
const TOTAL_FIELDS = ['total_users', 'total_movies', 'total_tv_shows', 'total_seasons', 'total_episodes'] as const
const NO_TOTALS: PlexTotals = Object.freeze({
  total_users: 0,
  total_movies: 0,
  total_tv_shows: 0,
  total_seasons: 0,
  total_episodes: 0,
})

export interface DashboardStatsOptions {
  /** `background_stats`, and `plex_stats_live` for the Plex totals (the dashboard never asks Plex itself). */
  readonly caches: CacheLookup
  readonly services: ServicesRepo
  readonly plexStats: PlexStatsRepo
  readonly traffic: TrafficLog
  readonly plex: PlexConnection
  /** STATS_REFRESH_INTERVAL: how often the snapshot is recomputed. */
  readonly intervalMs: number
  /** CACHE_WARM_IDLE: Plex totals are refreshed only while the dashboard was read this recently. */
  readonly idleWindowMs: number
  readonly clock: Clock
  readonly logger?: Pick<Logger, 'debug' | 'warn'>
}

/**
 * The dashboard's numbers as one snapshot, the `background_stats` cache. The snapshot is computed
 * from SQLite (services as the monitor left them, the peak, traffic totals) and from the last
 * Plex totals the other caches held, so computing it never waits on the network: a request that
 * finds no snapshot computes one at once. A background job recomputes it every interval; while
 * the dashboard is being read it also refreshes the Plex totals through their caches, and an
 * unread dashboard costs the Plex server nothing.
 */
export class DashboardStats implements BackgroundJob, DashboardSnapshot {
  readonly name = 'dashboard-stats'
  private totals: PlexTotals | undefined
  /** The snapshot computation in flight (settled, never rejecting), if any. */
  private computing: Promise<void> | undefined
  private totalsTriedAt = -Infinity
  private totalsRefresh: Promise<void> | undefined
  private lastReadAt = -Infinity
  private lastUpdateWallMs: number | null = null
  private readonly ticks: PeriodicJob<void>

  constructor(private readonly options: DashboardStatsOptions) {
    this.ticks = new PeriodicJob({
      clock: options.clock,
      intervalMs: options.intervalMs,
      run: () => this.runTick(),
      onError: (error) =>
        options.logger?.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'dashboard stats not recomputed',
        ),
    })
    options.plex.onChange(() => {
      this.totals = undefined
      this.totalsTriedAt = -Infinity
    })
  }

  get cache(): Cache<DashboardStatsValue> {
    return this.options.caches(dashboardStatsCache)
  }

  /** The job runs (for `cache/stats`: `enabled`). */
  get enabled(): boolean {
    return this.ticks.running
  }

  /** Epoch ms of the last computed snapshot, null before the first. */
  get lastUpdate(): number | null {
    return this.lastUpdateWallMs
  }

  get intervalMs(): number {
    return this.options.intervalMs
  }

  /**
   * Called on every dashboard request: marks the dashboard in demand, and starts (without waiting
   * for it) a refresh of the Plex totals when the last try is older than the interval.
   */
  noteRead(): void {
    const now = this.options.clock.now()
    this.lastReadAt = now
    if (this.totalsRefresh === undefined && now - this.totalsTriedAt >= this.options.intervalMs)
      void this.refreshPlexTotals()
  }

  /** Recomputes the snapshot now, then every interval until stop(). */
  start(): void {
    this.ticks.start()
  }

  /**
   * Cancels the timer and waits for a recompute in flight. A Plex totals read in flight is not
   * waited for: closing the registry aborts it.
   */
  stop(): Promise<void> {
    return this.ticks.stop()
  }

  /**
   * Reads the Plex totals through `plex_stats_live` (memory, else one load shared with every
   * other reader; a stale value is fine) and recomputes the snapshot when they changed.
   * Never rejects.
   */
  refreshPlexTotals(): Promise<void> {
    this.totalsRefresh ??= this.readPlexTotals()
      .catch((error: unknown) =>
        this.options.logger?.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'dashboard: Plex totals not applied',
        ),
      )
      .finally(() => {
        this.totalsRefresh = undefined
      })
    return this.totalsRefresh
  }

  private async readPlexTotals(): Promise<void> {
    const { plex, caches, clock, logger } = this.options
    this.totalsTriedAt = clock.now()
    if (!plex.configured) return
    let totals: PlexTotals
    try {
      totals = totalsOf((await caches(liveStatsCache).read()).entry.value)
    } catch (error) {
      logger?.debug(
        { cache: liveStatsCache.name, error: error instanceof Error ? error.message : String(error) },
        'dashboard: Plex totals not refreshed',
      )
      return
    }
    if (this.totals !== undefined && TOTAL_FIELDS.every((field) => this.totals![field] === totals[field])) return
    this.totals = totals
    // A snapshot being computed from the database now may predate these totals: reload after it.
    await this.computing
    await this.cache.reload()
  }

  private async runTick(): Promise<void> {
    const result = await this.cache.reload()
    if (!result.ok) this.options.logger?.warn({ error: result.error }, 'dashboard stats not recomputed')
    const inDemand = this.options.clock.now() - this.lastReadAt <= this.options.idleWindowMs
    if (inDemand) void this.refreshPlexTotals()
  }

  compute(): Promise<DashboardStatsValue> {
    const run = this.computeFromDatabase()
    this.computing = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  private async computeFromDatabase(): Promise<DashboardStatsValue> {
    const { services, plexStats, traffic, plex, clock } = this.options
    const configured = plex.configured
    const [day, month, counts, peak] = await Promise.all([
      traffic.totals(DAY_MS),
      traffic.totals(30 * DAY_MS),
      services.countByStatus(),
      plexStats.get(),
    ])
    const value: DashboardStatsValue = {
      services: counts,
      plex: {
        configured,
        peak_concurrent: peak.peakConcurrent,
        ...(configured ? (this.totals ?? NO_TOTALS) : NO_TOTALS),
      },
      traffic: {
        last_24h_download_bytes: day.downloadBytes,
        last_24h_upload_bytes: day.uploadBytes,
        last_24h_total_bytes: day.totalBytes,
        last_30d_download_bytes: month.downloadBytes,
        last_30d_upload_bytes: month.uploadBytes,
        last_30d_total_bytes: month.totalBytes,
      },
    }
    this.lastUpdateWallMs = clock.wallNow()
    return value
  }
}

/** The totals a source value carries; a field it lacks counts 0. */
function totalsOf(value: unknown): PlexTotals {
  const record = (value ?? {}) as Record<string, unknown>
  const totals = { ...NO_TOTALS }
  for (const field of TOTAL_FIELDS) {
    const n = record[field]
    if (typeof n === 'number' && Number.isFinite(n)) totals[field] = n
  }
  return totals
}
