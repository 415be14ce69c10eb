import { loadPmsAnswer, type MirrorRequest, type PmsAnswer } from '../mirror/pms-answer.js'
import { declareCache, type CacheSpec } from './declaration.js'

/**
 * The PMS mirror's caches (PLEX_PROXY_PORT): PMS's own answers, byte for byte, one entry per
 * path, query, format and paging (`MirrorRequest.key`, never the token), loaded with the
 * server's token. Four groups by how fast PMS changes them; the mirror drops a group when a
 * notification or a write through it says its answers changed (`src/features/mirror/`). The
 * value is `{status, type, headers, body}` with the body as text: a reply that is not UTF-8 is
 * not cached (the mirror passes it through).
 */
function mirrorCache(
  name: string,
  key: string,
  env: string,
  defaultSeconds: number,
  maxKeys: number,
): CacheSpec<PmsAnswer, MirrorRequest> {
  return declareCache<PmsAnswer, MirrorRequest>({
    name,
    key,
    ttl: { env, defaultSeconds },
    // Cleared when the server changes; not warmed (nothing is asked before a tool asks), and
    // dropped by the mirror itself when the notification stream had a gap.
    plexServer: 'derived',
    // A poller keeps its keys in demand: reloaded just before they expire, so at most one PMS
    // call per key per TTL and no poller waits.
    policy: { refreshAheadAt: 1 },
    keyOf: (request) => request.key,
    bounds: { maxKeys, maxBytes: 32 * 1024 * 1024 },
    load: ({ plex }, request, signal) => loadPmsAnswer(plex, request, signal),
  })
}

/** `/status/sessions`, `/transcode/sessions`, `/activities`: dropped when a session, transcode or activity changes. */
export const mirrorLiveCache = mirrorCache('plex_mirror_live', 'plex:mirror:live', 'CACHE_MIRROR_LIVE_TTL', 5, 32)

/** `/status/sessions/history/all` pages: dropped when a session stops or media is deleted. */
export const mirrorHistoryCache = mirrorCache(
  'plex_mirror_history',
  'plex:mirror:history',
  'CACHE_MIRROR_HISTORY_TTL',
  60,
  128,
)

/** Sections, their pages and totals, recently added, on deck, hubs, metadata: dropped on new or deleted media and on a stop. */
export const mirrorLibraryCache = mirrorCache(
  'plex_mirror_library',
  'plex:mirror:library',
  'CACHE_MIRROR_LIBRARY_TTL',
  120,
  512,
)

/** `/`, `/identity`, `/accounts`. */
export const mirrorServerCache = mirrorCache(
  'plex_mirror_server',
  'plex:mirror:server',
  'CACHE_MIRROR_SERVER_TTL',
  300,
  16,
)
