import { countUsers, fetchLibraryTotals, type SectionTotals } from '../../plex/library-totals.js'
import { int, object, str } from '../../json-schema.js'
import { declareCache, refreshOnlyOn } from './declaration.js'

const liveStatsFields = {
  total_users: int,
  total_movies: int,
  total_tv_shows: int,
  total_seasons: int,
  total_episodes: int,
  server_name: str,
}

/** `GET /api/plex/stats/live` (`total_seasons` is ours). */
export interface LiveStatsValue {
  total_users: number
  total_movies: number
  total_tv_shows: number
  total_seasons: number
  total_episodes: number
  server_name: string
  /** Per movie and show section, for viewers' views of plex_stats: never answered (`internal`). */
  sections?: SectionTotals[]
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

/**
 * `plex_stats_live`: PMS accounts and section totals. The totals change only with new or deleted
 * media, which PMS pushes (`timeline.library`), so while the stream is up the value is confirmed
 * instead of reloaded on its TTL. PMS pushes nothing when an account is added or removed: the
 * user count is taken as part of the same value and is current within the refetch of a value
 * that is read, five minutes after its fetch: as old as `/api/plex/users/count` lets the same
 * count get (its default TTL), and a live-stats load is seven Plex calls.
 */
export const liveStatsCache = declareCache<LiveStatsValue>({
  name: 'plex_stats_live',
  key: 'plex:stats_live',
  ttl: { env: 'CACHE_LIVE_STATS_TTL', defaultSeconds: 30 },
  plexServer: 'fetched',
  push: [refreshOnlyOn('timeline.library')],
  refetchAfterSeconds: 300,
  routes: [
    {
      paths: ['/api/plex/stats/live'],
      public: true,
      what: 'live Plex statistics',
      summary: 'Users and library totals (cached: plex_stats_live)',
      body: object(liveStatsFields),
      notConfiguredBody: object({ ...liveStatsFields, error: str }, [], 'Plex is not configured'),
      notConfigured: (deps) => liveStatsNotConfigured(deps.serverName()),
      internal: 'sections',
    },
  ],
  async load(deps, _args, signal) {
    const client = deps.plex.client()
    const serverName = deps.serverName()
    const [accounts, totals] = await Promise.all([client.accounts(signal), fetchLibraryTotals(client, signal)])
    return {
      total_users: countUsers(accounts),
      total_movies: totals.movies,
      total_tv_shows: totals.shows,
      total_seasons: totals.seasons,
      total_episodes: totals.episodes,
      server_name: serverName,
      sections: totals.sections,
    }
  },
})
