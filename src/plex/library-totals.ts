import type { PlexClient } from './client.js'
import { PlexTypeId, type Account } from './types.js'

export interface LibraryTotals {
  movies: number
  shows: number
  seasons: number
  episodes: number
}

/**
 * Item counts over every movie and show section, each from `/all?type=N` with container size 0
 * (only `totalSize` comes back), all requests at once.
 */
export async function fetchLibraryTotals(client: PlexClient, signal: AbortSignal): Promise<LibraryTotals> {
  const sections = await client.librarySections(signal)
  const count = (typeId: number, type: string) =>
    Promise.all(sections.filter((s) => s.type === type).map((s) => client.sectionTotal(s.id, typeId, signal))).then(sum)
  const [movies, shows, seasons, episodes] = await Promise.all([
    count(PlexTypeId.movie, 'movie'),
    count(PlexTypeId.show, 'show'),
    count(PlexTypeId.season, 'show'),
    count(PlexTypeId.episode, 'show'),
  ])
  return { movies, shows, seasons, episodes }
}

/** Users of the server from `/accounts`: id 0 is PMS's system account, not a user. */
export function countUsers(accounts: readonly Account[]): number {
  return accounts.filter((account) => account.id > 0).length
}

const sum = (values: number[]) => values.reduce((total, n) => total + n, 0)
