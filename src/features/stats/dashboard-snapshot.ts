/** `GET /api/plex/stats/dashboard`, without the `timestamp`/`cached` the reply adds. */
export interface DashboardStatsValue {
  services: { total: number; online: number; offline: number; problem: number }
  plex: {
    configured: boolean
    peak_concurrent: number
    total_users: number
    total_movies: number
    total_tv_shows: number
    total_seasons: number
    total_episodes: number
  }
  traffic: {
    last_24h_download_bytes: number
    last_24h_upload_bytes: number
    last_24h_total_bytes: number
    last_30d_download_bytes: number
    last_30d_upload_bytes: number
    last_30d_total_bytes: number
  }
}

/** What the `background_stats` cache and its route need of the dashboard job. */
export interface DashboardSnapshot {
  /** The snapshot from SQLite and the Plex totals last seen; never waits on the network. */
  compute(): Promise<DashboardStatsValue>
  /** Marks the dashboard in demand, so the job keeps its Plex totals fresh. */
  noteRead(): void
}
