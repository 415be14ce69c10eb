import { plexImageUrl } from '../../plex/image-url.js'
import type { LibraryItem } from '../../plex/index.js'
import { arrayOf, emptyArray, nullable, object, str } from '../../json-schema.js'
import { OWNER_ACCOUNT_ID, sectionFilter, type LibraryShares } from '../viewers/library-shares.js'
import type { Viewer } from '../viewers/viewer.js'
import { declareCache, refreshOnlyOn } from './declaration.js'
import { librarySharesFor } from './users-count.js'

/** One entry of `GET /api/plex/media/recent`. */
export interface RecentMediaItem {
  title: string
  /** The section's type, as Komandorr sent it: movie | show. */
  type: string
  year: number | null
  poster: string | null
  rating: number | null
}

export interface RecentMediaValue {
  media: RecentMediaItem[]
  /** What viewers' views are derived from: never answered (`internal`), absent from a view. */
  libraries?: RecentBySection
}

/** Each section's own list (newest first, when each entry was added), and who may see which (null: plex.tv never answered). */
export interface RecentBySection {
  sections: { key: string; items: DatedRecentItem[] }[]
  shares: LibraryShares | null
}

type DatedRecentItem = RecentMediaItem & { added_at: number }

export const RECENT_MEDIA_LIMIT = 30
export const RECENT_MEDIA_NOT_CONFIGURED = Object.freeze({ items: [], not_configured: true })

// A show section lists new episodes one by one and a season arrives in a burst, so it is asked
// for more than the limit: after folding episodes into their show, enough distinct shows remain.
const PER_SECTION = { movie: RECENT_MEDIA_LIMIT, show: RECENT_MEDIA_LIMIT * 2 } as const

/**
 * `plex_recent_media`: each movie and show section's recently added, newest first, one entry per
 * show. It changes only with new or deleted media, which PMS pushes (`timeline.library`): while
 * the stream is up it is confirmed instead of reloaded on its TTL.
 */
export const recentMediaCache = declareCache<RecentMediaValue>({
  name: 'plex_recent_media',
  key: 'plex:recent_media',
  ttl: { env: 'CACHE_RECENT_MEDIA_TTL', defaultSeconds: 300 },
  plexServer: 'fetched',
  push: [refreshOnlyOn('timeline.library')],
  routes: [
    {
      paths: ['/api/plex/media/recent'],
      public: true,
      what: 'recently added Plex media',
      summary: 'Recently added movies and shows, newest first, one entry per show (cached: plex_recent_media)',
      body: object({
        media: arrayOf(
          object({
            title: str,
            type: str,
            year: nullable('number'),
            poster: nullable('string'),
            rating: nullable('number'),
          }),
        ),
      }),
      notConfiguredBody: object({ items: emptyArray, not_configured: { const: true } }, [], 'Plex is not configured'),
      notConfigured: () => RECENT_MEDIA_NOT_CONFIGURED,
      internal: 'libraries',
    },
  ],
  viewers: { kind: 'view', view: viewerMedia },
  async load(deps, _args, signal) {
    const client = deps.plex.client()
    const shares = librarySharesFor(deps)
    const sections = (await client.librarySections(signal)).filter((s) => s.type === 'movie' || s.type === 'show')
    const lists = await Promise.all(
      sections.map(async (section) => {
        const items = await client.sectionRecentlyAdded(
          section.id,
          { size: PER_SECTION[section.type as 'movie' | 'show'] },
          signal,
        )
        return items.map((item) => ({ item, sectionType: section.type }))
      }),
    )
    const bySection = lists.map((entries, i) => ({
      key: String(sections[i]!.id),
      items: newestDated(entries, client.baseUrl),
    }))
    return {
      media: newestFirst(lists.flat(), client.baseUrl),
      libraries: { sections: bySection, shares: await shares },
    }
  },
})

/**
 * A viewer's list: the newest of the sections shared with them (the owner's account: all). A
 * show lives in one section, so merging each section's own list gives what one list of those
 * sections alone would.
 */
function viewerMedia({ media, libraries }: RecentMediaValue, viewer: Viewer): RecentMediaValue {
  if (viewer.plexAccountId === OWNER_ACCOUNT_ID) return { media }
  const shared = sectionFilter(libraries?.shares, viewer.plexAccountId)
  const items = (libraries?.sections ?? []).filter((section) => shared(section.key)).flatMap((section) => section.items)
  items.sort((a, b) => b.added_at - a.added_at)
  return { media: items.slice(0, RECENT_MEDIA_LIMIT).map(undated) }
}

export function newestFirst(
  entries: ReadonlyArray<{ item: LibraryItem; sectionType: string }>,
  baseUrl: string,
): RecentMediaItem[] {
  return newestDated(entries, baseUrl).map(undated)
}

const undated = ({ added_at: _added, ...item }: DatedRecentItem): RecentMediaItem => item

function newestDated(
  entries: ReadonlyArray<{ item: LibraryItem; sectionType: string }>,
  baseUrl: string,
): DatedRecentItem[] {
  const sorted = [...entries].sort((a, b) => (b.item.addedAt ?? 0) - (a.item.addedAt ?? 0))
  const seen = new Set<string>()
  const media: DatedRecentItem[] = []
  for (const { item, sectionType } of sorted) {
    const shown = presentation(item)
    if (shown.poster === undefined || seen.has(shown.group)) continue
    seen.add(shown.group)
    media.push({
      title: shown.title,
      type: sectionType,
      year: item.year ?? null,
      poster: plexImageUrl(baseUrl, shown.poster),
      rating: item.rating ?? null,
      added_at: item.addedAt ?? 0,
    })
    if (media.length === RECENT_MEDIA_LIMIT) break
  }
  return media
}

/** Episodes and seasons stand for their show: its title, its poster, one entry per show. */
function presentation(item: LibraryItem): { title: string; poster: string | undefined; group: string } {
  switch (item.type) {
    case 'episode':
      return {
        title: item.grandparentTitle ?? item.title,
        poster: item.grandparentThumb ?? item.parentThumb ?? item.thumb,
        group: `show:${item.grandparentRatingKey ?? item.grandparentTitle ?? item.ratingKey}`,
      }
    case 'season':
      return {
        title: item.parentTitle ?? item.title,
        poster: item.parentThumb ?? item.thumb,
        group: `show:${item.parentRatingKey ?? item.parentTitle ?? item.ratingKey}`,
      }
    case 'show':
      return { title: item.title, poster: item.thumb, group: `show:${item.ratingKey ?? item.title}` }
    default:
      return { title: item.title, poster: item.thumb, group: `item:${item.ratingKey ?? item.title}` }
  }
}
