import type { SharedServer } from '../../plex/index.js'

/**
 * The library sections each Plex account may see, by account id (as a string: a JSON object's
 * key), from plex.tv's `shared_servers`: `'all'` for a share of every library (sections added
 * later included), else the keys of the sections shared with it (PMS section ids, as strings).
 * An account absent from it is shared nothing.
 */
export type LibraryShares = Record<string, 'all' | string[]>

/** PMS's account of the server's owner (`accountID` 1 on history rows): every library is theirs. */
export const OWNER_ACCOUNT_ID = 1

export function librarySharesOf(servers: readonly SharedServer[]): LibraryShares {
  const shares: LibraryShares = {}
  for (const server of servers) {
    const account = String(server.userID)
    if (shares[account] === 'all') continue
    if (server.allLibraries === true) {
      shares[account] = 'all'
      continue
    }
    // A user shared through more than one entry sees what any of them shares.
    const keys = new Set(shares[account] ?? [])
    for (const section of server.sections) if (section.shared && section.key !== undefined) keys.add(section.key)
    shares[account] = [...keys]
  }
  return shares
}

/**
 * Whether the account may see a section (by its key). With no sharing known (plex.tv never
 * answered) an account other than the owner's is shared nothing, never everything.
 */
export function sectionFilter(
  shares: LibraryShares | null | undefined,
  accountId: number,
): (sectionKey: string) => boolean {
  if (accountId === OWNER_ACCOUNT_ID) return () => true
  const share = shares?.[String(accountId)]
  if (share === undefined) return () => false
  if (share === 'all') return () => true
  const keys = new Set(share)
  return (sectionKey) => keys.has(sectionKey)
}
