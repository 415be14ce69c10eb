/** PMS metadata type ids. */
export const TYPE = {
  movie: 1,
  show: 2,
  season: 3,
  episode: 4,
  artist: 8,
  album: 9,
  track: 10,
  clip: 12,
  photo: 13,
  playlist: 15,
  collection: 18,
} as const

export type TypeName = keyof typeof TYPE
export type TypeId = (typeof TYPE)[TypeName]

export const TYPE_NAME: Readonly<Record<number, TypeName>> = Object.fromEntries(
  Object.entries(TYPE).map(([name, id]) => [id, name as TypeName]),
)

export type SectionType = 'movie' | 'show' | 'artist' | 'photo'

export interface Section {
  id: number
  type: SectionType
  title: string
  agent: string
  scanner: string
  language: string
  uuid: string
  createdAt: number
  updatedAt: number
  scannedAt: number
  contentChangedAt: number
  locationId: number
  path: string
  hidden: boolean
  /** Item types a section holds, top level first (`/all` without `type=` lists the first). */
  types: readonly TypeId[]
}

/** The item types that are watched (and so land in history / recentlyAdded per section). */
export const LEAF_TYPES: ReadonlySet<number> = new Set([TYPE.movie, TYPE.episode, TYPE.track, TYPE.photo])

export const SECTION_TYPES: Readonly<Record<SectionType, readonly TypeId[]>> = {
  movie: [TYPE.movie],
  show: [TYPE.show, TYPE.season, TYPE.episode],
  artist: [TYPE.artist, TYPE.album, TYPE.track],
  photo: [TYPE.photo],
}
