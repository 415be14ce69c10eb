import type { Cache, CacheRegistry } from '../cache/index.js'
import type { PlexConnection } from './plex-connection.js'

/** `GET /api/plex/users/count`: users the server is shared with, per plex.tv. */
export interface UsersCountValue {
  count: number
}

export const USERS_COUNT_NOT_CONFIGURED = Object.freeze({ count: 0, message: 'Plex not configured' })

/**
 * `plex_users_count`: PMS `/identity` gives the machine identifier, plex.tv's `shared_servers`
 * one entry per share. Komandorr's UI polls this every 10 s; plex.tv is asked once per TTL.
 */
export function defineUsersCountCache(registry: CacheRegistry, plex: PlexConnection, ttlMs: number): Cache<UsersCountValue> {
  return registry.define<UsersCountValue>({
    name: 'plex_users_count',
    key: 'plex:users_count',
    ttlMs,
    load: async (_args, signal) => {
      const client = plex.client()
      const { machineIdentifier, version } = await client.identity(signal)
      plex.noteServerVersion(version)
      const shares = await client.sharedServers(machineIdentifier, signal)
      // A user shared through more than one entry is still one user.
      return { count: new Set(shares.map((share) => share.userID)).size }
    },
  })
}
