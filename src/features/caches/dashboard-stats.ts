import type { DashboardStatsValue } from '../stats/dashboard-snapshot.js'
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
      onRequest: ({ dashboard }) => dashboard.noteRead(),
    },
  ],
  load: ({ dashboard }) => dashboard.compute(),
})
