import type { Cache, CacheRegistry } from '../cache/index.js'
import type { PlexConnection } from './plex-connection.js'

/** `GET /api/invites/plex/config`: the server and its libraries, for Komandorr's invite form. */
export interface LibrariesValue {
  servers: Array<{ id: 'default'; name: string; url: string }>
  libraries: Array<{ id: string; name: string; type: string }>
}

export const LIBRARIES_NOT_CONFIGURED = Object.freeze({ servers: [], libraries: [], error: 'Plex server not configured' })

/**
 * `plex_libraries`: PMS `/library/sections`, keyed by the connection's fingerprint (a hash of URL
 * and token, never the token) so that a value loaded for one server is never served for another.
 */
export function defineLibrariesCache(
  registry: CacheRegistry,
  plex: PlexConnection,
  ttlMs: number,
  defaultServerName: string,
): Cache<LibrariesValue> {
  return registry.define<LibrariesValue>({
    name: 'plex_libraries',
    key: 'plex:libraries',
    keyOf: () => plex.fingerprint,
    warmArgs: [undefined],
    ttlMs,
    load: async (_args, signal) => {
      const client = plex.client()
      const sections = await client.librarySections(signal)
      return {
        servers: [{ id: 'default', name: plex.settings?.serverName || defaultServerName, url: client.baseUrl }],
        libraries: sections.map((s) => ({ id: String(s.id), name: s.title, type: s.type })),
      }
    },
  })
}
