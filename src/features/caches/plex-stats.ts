import type { PlexStatsRecord } from '../../db/index.js'
import { bool, int, nullable, object, str } from '../../json-schema.js'
import type { SectionTotals } from '../../plex/library-totals.js'
import { OWNER_ACCOUNT_ID, sectionFilter, type LibraryShares } from '../viewers/library-shares.js'
import type { Viewer } from '../viewers/viewer.js'
import { declareCache, type CacheDeps } from './declaration.js'
import { liveStatsCache } from './live-stats.js'
import { librarySharesFor } from './users-count.js'

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
  /** What viewers' views are derived from: never answered (`internal`), absent from a view. */
  libraries?: SharedLibraries
}

/** The totals per section, and who may see which (null: plex.tv never answered). */
export interface SharedLibraries {
  sections: Pick<SectionTotals, 'key' | 'movies' | 'shows'>[]
  shares: LibraryShares | null
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
      internal: 'libraries',
    },
  ],
  viewers: { kind: 'view', view: viewerStats },
  async load(deps) {
    const client = deps.plex.client()
    const [live, shares] = await Promise.all([deps.cache(liveStatsCache).read(), librarySharesFor(deps)])
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
      libraries: {
        sections: (totals.sections ?? []).map(({ key, movies, shows }) => ({ key, movies, shows })),
        shares,
      },
    }
  },
})

/**
 * A viewer's statistics: the totals of the libraries shared with them (the owner's account: all),
 * without the server-wide user count.
 */
function viewerStats({ total_users: _users, libraries, ...rest }: PlexStatsValue, viewer: Viewer): PlexStatsValue {
  if (viewer.plexAccountId === OWNER_ACCOUNT_ID) return rest
  const shared = sectionFilter(libraries?.shares, viewer.plexAccountId)
  const sections = (libraries?.sections ?? []).filter((section) => shared(section.key))
  return {
    ...rest,
    total_movies: sections.reduce((n, section) => n + section.movies, 0),
    total_tv_shows: sections.reduce((n, section) => n + section.shows, 0),
  }
}

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
  return object(
    {
      peak_concurrent: int,
      last_updated: nullable('string', { format: 'date-time' }),
      server_url: str,
      server_name: str,
      token_configured: bool,
      total_users: { ...int, description: "absent for a viewer: the server's user count is the admin's" },
      total_movies: int,
      total_tv_shows: int,
    },
    ['total_users'],
  )
}
