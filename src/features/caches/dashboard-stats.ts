import type { DashboardStatsValue } from '../stats/dashboard-snapshot.js'
import { bool, int, num, object } from '../../json-schema.js'
import { declareCache } from './declaration.js'

/**
 * `background_stats`: the dashboard's numbers as one snapshot, computed from SQLite and the Plex
 * totals last seen (features/stats/dashboard-stats.ts), so it never waits on the network. Its job
 * recomputes it every STATS_REFRESH_INTERVAL; the Plex totals it shows belong to the server.
 */
export const dashboardStatsCache = declareCache<DashboardStatsValue>({
  name: 'background_stats',
  key: 'stats:dashboard',
  ttl: { env: 'STATS_REFRESH_INTERVAL', defaultSeconds: 60 },
  plexServer: 'derived',
  // The job recomputes it on its own schedule.
  policy: { refreshAhead: false },
  routes: [
    {
      paths: ['/api/plex/stats/dashboard'],
      public: true,
      what: 'the dashboard statistics',
      summary: 'The dashboard snapshot, recomputed every STATS_REFRESH_INTERVAL (cached: background_stats)',
      body: object({
        services: object({ total: int, online: int, offline: int, problem: int }),
        plex: object({
          configured: bool,
          peak_concurrent: int,
          total_users: int,
          total_movies: int,
          total_tv_shows: int,
          total_seasons: int,
          total_episodes: int,
        }),
        traffic: object({
          last_24h_download_bytes: num,
          last_24h_upload_bytes: num,
          last_24h_total_bytes: num,
          last_30d_download_bytes: num,
          last_30d_upload_bytes: num,
          last_30d_total_bytes: num,
        }),
      }),
      onRequest: ({ dashboard }) => dashboard.noteRead(),
    },
  ],
  load: ({ dashboard }) => dashboard.compute(),
})
