import type { PlexStatsRecord } from '../../db/index.js'
import { bool, int, nullable, object, str } from '../../json-schema.js'
import { declareCache, type CacheDeps } from './declaration.js'
import { liveStatsCache } from './live-stats.js'

/** `GET /api/plex/stats`. */
export interface PlexStatsValue {
  peak_concurrent: number
  /** UTC ISO 8601 of the last change of the peak; null when never set. */
  last_updated: string | null
  /** The server's base URL, never with the token. */
  server_url: string
  server_name: string
  token_configured: boolean
  /** Server-wide: absent from a viewer's view. */
  total_users?: number
  total_movies: number
  total_tv_shows: number
}

/**
 * `plex_stats`: the stored peak of concurrent streams plus the PMS totals of `plex_stats_live`
 * (one fetch serves both caches, and a peak change costs Plex nothing). The peak writes
 * (features/stats/plex-peak.ts) invalidate it.
 */
export const plexStatsCache = declareCache<PlexStatsValue>({
  name: 'plex_stats',
  key: 'plex:stats',
  ttl: { env: 'CACHE_STATS_TTL', defaultSeconds: 60 },
  plexServer: 'fetched',
  routes: [
    {
      paths: ['/api/plex/stats'],
      public: true,
      what: 'the Plex statistics',
      summary: 'The peak of concurrent streams and the server totals (cached: plex_stats)',
      body: plexStatsSchema(),
      notConfiguredBody: plexStatsSchema(),
      notConfigured: plexStatsNotConfigured,
    },
  ],
  // Library sharing per user is not in what this cache loads: a viewer gets the server's
  // statistics without the server-wide user count.
  viewers: { kind: 'view', view: ({ total_users: _users, ...rest }) => rest },
  async load(deps) {
    const client = deps.plex.client()
    const live = await deps.cache(liveStatsCache).read()
    // Totals Plex could not confirm are not fresh: let plex_stats serve its own stale value.
    // (A stale read without an error is only a value being refreshed: its totals are fine.)
    if (live.outcome === 'stale' && live.error !== undefined) throw live.error
    const totals = live.entry.value
    return {
      ...peakFields(await deps.repos.plexStats.get()),
      server_url: client.baseUrl,
      server_name: deps.serverName(),
      token_configured: true,
      total_users: totals.total_users,
      total_movies: totals.total_movies,
      total_tv_shows: totals.total_tv_shows,
    }
  },
})

/** What `GET /api/plex/stats` answers while no Plex server is configured: the peak and zeros, not cached. */
async function plexStatsNotConfigured(deps: CacheDeps): Promise<PlexStatsValue> {
  return {
    ...peakFields(await deps.repos.plexStats.get()),
    server_url: '',
    server_name: deps.serverName(),
    token_configured: false,
    total_users: 0,
    total_movies: 0,
    total_tv_shows: 0,
  }
}

export function peakFields(record: PlexStatsRecord): { peak_concurrent: number; last_updated: string | null } {
  return {
    peak_concurrent: record.peakConcurrent,
    last_updated: record.lastUpdated === null ? null : new Date(record.lastUpdated).toISOString(),
  }
}

function plexStatsSchema() {
  return object({
    peak_concurrent: int,
    last_updated: nullable('string', { format: 'date-time' }),
    server_url: str,
    server_name: str,
    token_configured: bool,
    total_users: { ...int, description: "absent for a viewer: the server's user count is the admin's" },
    total_movies: int,
    total_tv_shows: int,
  }, ['total_users'])
}
