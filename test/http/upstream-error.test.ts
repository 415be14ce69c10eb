import { describe, expect, it } from 'vitest'
import { CacheClosedError, LoaderTimeoutError } from '../../src/cache/index.js'
import { upstreamError } from '../../src/http/upstream-error.js'
import { PlexAuthError, PlexTimeoutError } from '../../src/plex/index.js'

describe('upstreamError', () => {
  it('answers 503 for an upstream too slow or unreachable and for a shutdown, 502 for a wrong answer', () => {
    const cases: Array<[unknown, number]> = [
      [new LoaderTimeoutError('plex_sessions', 'plex:sessions', 30_000), 503],
      [new CacheClosedError('plex_sessions'), 503],
      [new PlexTimeoutError('/status/sessions', 10_000), 503],
      [new PlexAuthError('/status/sessions'), 502],
      [new Error('the loaded value cannot be serialized'), 502],
    ]
    for (const [error, status] of cases)
      expect(upstreamError(error, 'Plex sessions').statusCode, String(error)).toBe(status)
  })

  it('names the deadline of a loader timeout and keeps the route fields beside detail and message', () => {
    const error = upstreamError(new LoaderTimeoutError('plex_sessions', 'plex:sessions', 30_000), 'Plex sessions', {
      error: true,
      sessions: [],
    })
    expect(error.detail).toBe(
      'Could not load Plex sessions: the upstream did not answer within 30 s; no cached copy is available yet, retry later',
    )
    expect(error.extra).toEqual({ message: error.detail, error: true, sessions: [] })
  })
})
