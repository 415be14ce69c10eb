import type { PlexClient } from './client.js'
import { PlexTypeId, type Account } from './types.js'

export interface LibraryTotals {
  movies: number
  shows: number
  seasons: number
  episodes: number
}

/** One movie or show section's totals (the others count nothing). */
export interface SectionTotals extends LibraryTotals {
  /** The section's key (PMS section id) as plex.tv's sharing names it: `"1"`. */
  key: string
}

/**
 * Item counts over every movie and show section, each from `/all?type=N` with container size 0
 * (only `totalSize` comes back), all requests at once; per section as well.
 */
export async function fetchLibraryTotals(
  client: PlexClient,
  signal: AbortSignal,
): Promise<LibraryTotals & { sections: SectionTotals[] }> {
  const counted = (await client.librarySections(signal)).filter((s) => s.type === 'movie' || s.type === 'show')
  const total = (sectionId: number, typeId: number) => client.sectionTotal(sectionId, typeId, signal)
  const sections = await Promise.all(
    counted.map(async (s): Promise<SectionTotals> => {
      const key = String(s.id)
      if (s.type === 'movie')
        return { key, movies: await total(s.id, PlexTypeId.movie), shows: 0, seasons: 0, episodes: 0 }
      const [shows, seasons, episodes] = await Promise.all([
        total(s.id, PlexTypeId.show),
        total(s.id, PlexTypeId.season),
        total(s.id, PlexTypeId.episode),
      ])
      return { key, movies: 0, shows, seasons, episodes }
    }),
  )
  return { ...sumOf(sections), sections }
}

/** The totals of `sections` together. */
export function sumOf(sections: readonly LibraryTotals[]): LibraryTotals {
  const totals = { movies: 0, shows: 0, seasons: 0, episodes: 0 }
  for (const s of sections) {
    totals.movies += s.movies
    totals.shows += s.shows
    totals.seasons += s.seasons
    totals.episodes += s.episodes
  }
  return totals
}

/** Users of the server from `/accounts`: id 0 is PMS's system account, not a user. */
export function countUsers(accounts: readonly Account[]): number {
  return accounts.filter((account) => account.id > 0).length
}
