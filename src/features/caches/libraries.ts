import { arrayOf, object, str } from '../../json-schema.js'
import { declareCache } from './declaration.js'

const libraryFields = {
  servers: arrayOf(object({ id: { const: 'default' }, name: str, url: str })),
  libraries: arrayOf(object({ id: str, name: str, type: str })),
}

/** `GET /api/invites/plex/config`: the server and its libraries, for Komandorr's invite form. */
export interface LibrariesValue {
  servers: Array<{ id: 'default'; name: string; url: string }>
  libraries: Array<{ id: string; name: string; type: string }>
}

export const LIBRARIES_NOT_CONFIGURED = Object.freeze({
  servers: [],
  libraries: [],
  error: 'Plex server not configured',
})

/**
 * `plex_libraries`: PMS `/library/sections`, keyed by the connection's fingerprint (a hash of URL
 * and token, never the token) so that a value loaded for one server is never served for another.
 */
export const librariesCache = declareCache<LibrariesValue>({
  name: 'plex_libraries',
  key: 'plex:libraries',
  ttl: { env: 'CACHE_LIBRARY_TTL', defaultSeconds: 300 },
  plexServer: 'fetched',
  routes: [
    {
      paths: ['/api/invites/plex/config'],
      what: 'the Plex libraries',
      summary: "The server and its libraries, for Komandorr's invite form (cached: plex_libraries)",
      body: object(libraryFields),
      notConfiguredBody: object({ ...libraryFields, error: str }, [], 'Plex is not configured'),
      notConfigured: () => LIBRARIES_NOT_CONFIGURED,
    },
  ],
  keyOf: (_args, { plex }) => plex.fingerprint,
  warmArgs: [undefined],
  async load(deps, _args, signal) {
    const client = deps.plex.client()
    const sections = await client.librarySections(signal)
    return {
      servers: [{ id: 'default', name: deps.serverName(), url: client.baseUrl }],
      libraries: sections.map((s) => ({ id: String(s.id), name: s.title, type: s.type })),
    }
  },
})
