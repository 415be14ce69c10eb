import type { Cache, CacheRegistry } from '../cache/index.js'
import type { PlexConnection } from './plex-connection.js'
import { countUsers, fetchLibraryTotals } from './plex-library-totals.js'

/** `GET /api/plex/stats/live` (SPEC §3; `total_seasons` is ours). */
export interface LiveStatsValue {
  total_users: number
  total_movies: number
  total_tv_shows: number
  total_seasons: number
  total_episodes: number
  server_name: string
}

export function liveStatsNotConfigured(serverName: string) {
  return {
    total_users: 0,
    total_movies: 0,
    total_tv_shows: 0,
    total_seasons: 0,
    total_episodes: 0,
    server_name: serverName,
    error: 'Plex not configured',
  }
}

/** `plex_stats_live`: PMS accounts and section totals. */
export function defineLiveStatsCache(
  registry: CacheRegistry,
  plex: PlexConnection,
  ttlMs: number,
  defaultServerName: string,
): Cache<LiveStatsValue> {
  return registry.define<LiveStatsValue>({
    name: 'plex_stats_live',
    key: 'plex:stats_live',
    ttlMs,
    load: async (_args, signal) => {
      const client = plex.client()
      const serverName = plex.settings?.serverName || defaultServerName
      const [accounts, totals] = await Promise.all([client.accounts(signal), fetchLibraryTotals(client, signal)])
      return {
        total_users: countUsers(accounts),
        total_movies: totals.movies,
        total_tv_shows: totals.shows,
        total_seasons: totals.seasons,
        total_episodes: totals.episodes,
        server_name: serverName,
      }
    },
  })
}
