import { CacheClosedError, LoaderTimeoutError } from '../cache/errors.js'
import { isDatabaseUnavailable } from '../db/errors.js'
import { isPlexError } from '../plex/errors.js'
import { HttpError } from './http-error.js'

/**
 * A failed load with no stale value to fall back on becomes a clear 502/503, never a cached
 * lie: 503 when the upstream is unreachable or too slow (a Plex timeout, a loader past its
 * cache's deadline) or the service is shutting down, 502 when it answered wrongly. Komandorr's
 * frontend shows `message` where it exists, so Plex routes carry both; the route adds its own
 * empty-list fields (`error: true, activities: []`) through `extra`.
 */
export function upstreamError(error: unknown, what: string, extra: Record<string, unknown> = {}): HttpError {
  const detail = upstreamDetail(error, what)
  return new HttpError(unavailable(error) ? 503 : 502, detail, { message: detail, ...extra })
}

function unavailable(error: unknown): boolean {
  if (isPlexError(error)) return error.kind === 'timeout' || error.kind === 'unreachable'
  return error instanceof LoaderTimeoutError || error instanceof CacheClosedError || isDatabaseUnavailable(error)
}

function upstreamDetail(error: unknown, what: string): string {
  if (error instanceof LoaderTimeoutError) {
    return `Could not load ${what}: the upstream did not answer within ${error.timeoutMs / 1000} s; no cached copy is available yet, retry later`
  }
  if (error instanceof CacheClosedError) return `Could not load ${what}: the service is shutting down`
  // A Plex error carries socket codes too (ECONNREFUSED): it is never the database's.
  if (!isPlexError(error) && isDatabaseUnavailable(error))
    return `Could not load ${what}: the database is not reachable and no cached copy is available yet; retry in a moment`
  if (!isPlexError(error)) {
    return `Could not load ${what}: ${error instanceof Error ? error.message : String(error)}`
  }
  switch (error.kind) {
    case 'auth':
      return `Could not load ${what}: Plex answered 401, the configured token is not accepted; set a valid one in PLEX_SERVER_TOKEN or through POST /api/plex/config`
    case 'timeout':
    case 'unreachable':
      return `Could not load ${what}: ${error.message}; no cached copy is available yet, retry when Plex is back`
    default:
      return `Could not load ${what}: ${error.message}`
  }
}
