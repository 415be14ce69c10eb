import { int, object, str } from '../../json-schema.js'
import { librarySharesOf, type LibraryShares } from '../viewers/library-shares.js'
import { declareCache, type CacheDeps } from './declaration.js'

/** `GET /api/plex/users/count`: users the server is shared with, per plex.tv. */
export interface UsersCountValue {
  count: number
  /** The sections each of them may see, for viewers' views of other caches: never answered (`internal`). */
  shares?: LibraryShares
}

export const USERS_COUNT_NOT_CONFIGURED = Object.freeze({ count: 0, message: 'Plex not configured' })

/**
 * `plex_users_count`: PMS `/identity` gives the machine identifier, plex.tv's `shared_servers`
 * one entry per share. Komandorr's UI polls this every 10 s; plex.tv is asked once per TTL. The
 * same answer says which libraries each user may see (`shares`): what a viewer's statistics and
 * recently added list are filtered by.
 */
export const usersCountCache = declareCache<UsersCountValue>({
  name: 'plex_users_count',
  key: 'plex:users_count',
  ttl: { env: 'CACHE_USERS_COUNT_TTL', defaultSeconds: 300 },
  plexServer: 'fetched',
  routes: [
    {
      paths: ['/api/plex/users/count'],
      what: 'the Plex shared users count',
      summary: 'Users the server is shared with, per plex.tv (cached: plex_users_count)',
      body: object({ count: int }),
      notConfiguredBody: object({ count: int, message: str }, [], 'Plex is not configured'),
      notConfigured: () => USERS_COUNT_NOT_CONFIGURED,
      internal: 'shares',
    },
  ],
  async load({ plex }, _args, signal) {
    const client = plex.client()
    const { machineIdentifier, version } = await client.identity(signal)
    plex.noteServerVersion(version)
    const shares = await client.sharedServers(machineIdentifier, signal)
    // A user shared through more than one entry is still one user.
    return { count: new Set(shares.map((share) => share.userID)).size, shares: librarySharesOf(shares) }
  },
})

/**
 * The sharing plex.tv last told (also while it is served stale, plex.tv being down): what the
 * loaders of caches with viewers' views keep beside their value. Null when plex.tv never
 * answered: then a viewer is shared nothing.
 */
export async function librarySharesFor(deps: CacheDeps): Promise<LibraryShares | null> {
  try {
    return (await deps.cache(usersCountCache).read()).entry.value.shares ?? null
  } catch {
    return null
  }
}
