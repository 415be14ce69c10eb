// What the mirror does with a path: answer it from one of its caches (the pattern names the
// metric), from plex_images, from the notification fan-out, or pass it through to PMS.

/** The mirror's cache groups (src/features/caches/mirror.ts), by how fast PMS changes their answers. */
export type MirrorGroup = 'live' | 'history' | 'library' | 'server'

export const MIRROR_GROUPS: readonly MirrorGroup[] = ['live', 'history', 'library', 'server']

export interface CachedPattern {
  readonly kind: 'cached'
  /** The metric label and the /cache page's row: the path with its ids as `{id}`. */
  readonly name: string
  readonly group: MirrorGroup
}

export interface ImagePattern {
  readonly kind: 'image'
  readonly name: string
}

export type MirrorRoute = CachedPattern | ImagePattern

const cached = (name: string, group: MirrorGroup): CachedPattern => ({ kind: 'cached', name, group })

const EXACT = new Map<string, MirrorRoute>([
  ['/', cached('/', 'server')],
  ['/identity', cached('/identity', 'server')],
  ['/accounts', cached('/accounts', 'server')],
  ['/status/sessions', cached('/status/sessions', 'live')],
  ['/transcode/sessions', cached('/transcode/sessions', 'live')],
  ['/activities', cached('/activities', 'live')],
  ['/status/sessions/history/all', cached('/status/sessions/history/all', 'history')],
  ['/library/sections', cached('/library/sections', 'library')],
  ['/library/recentlyAdded', cached('/library/recentlyAdded', 'library')],
  ['/library/onDeck', cached('/library/onDeck', 'library')],
  ['/hubs/home/recentlyAdded', cached('/hubs/home/recentlyAdded', 'library')],
  ['/photo/:/transcode', { kind: 'image', name: '/photo/:/transcode' }],
])

const SECTION_ALL = cached('/library/sections/{id}/all', 'library')
const SECTION_RECENT = cached('/library/sections/{id}/recentlyAdded', 'library')
const METADATA = cached('/library/metadata/{id}', 'library')
const CHILDREN = cached('/library/metadata/{id}/children', 'library')
const METADATA_IMAGE: ImagePattern = { kind: 'image', name: '/library/metadata/{id}/{image}' }

const SECTION_PATH = /^\/library\/sections\/\d+\/(all|recentlyAdded)$/
const METADATA_PATH = /^\/library\/metadata\/\d+(\/children)?$/
const IMAGE_PATH = /^\/library\/metadata\/\d+\/(thumb|art|banner|theme|clearLogo)(\/\d+)?$/

/** The cached or image route of `path`; undefined: passed through. */
export function routeOf(path: string): MirrorRoute | undefined {
  const exact = EXACT.get(path)
  if (exact !== undefined) return exact
  if (!path.startsWith('/library/')) return undefined
  let m = SECTION_PATH.exec(path)
  if (m !== null) return m[1] === 'all' ? SECTION_ALL : SECTION_RECENT
  m = METADATA_PATH.exec(path)
  if (m !== null) return m[1] === undefined ? METADATA : CHILDREN
  return IMAGE_PATH.test(path) ? METADATA_IMAGE : undefined
}

export const WEBSOCKET_PATH = '/:/websockets/notifications'
export const EVENTSOURCE_PATH = '/:/eventsource/notifications'
/** The metric label of everything passed through. */
export const PASS_THROUGH = 'pass-through'
export const NOTIFICATIONS = 'notifications'

/** Every metric label the mirror uses, so that none is made up from a request. */
export const PATTERN_NAMES: readonly string[] = [
  ...new Set([
    ...[...EXACT.values()].map((route) => route.name),
    SECTION_ALL.name,
    SECTION_RECENT.name,
    METADATA.name,
    CHILDREN.name,
    METADATA_IMAGE.name,
    NOTIFICATIONS,
    PASS_THROUGH,
  ]),
]

// A write PMS accepted drops the groups whose answers it can change: a scan, an edit or a delete
// under /library changes the library and the history of deleted items; marking watched or
// reporting progress changes those and the sessions; anything else (prefs, accounts, playlists,
// butler tasks) drops every group.
const WRITE_DROPS: ReadonlyArray<readonly [RegExp, readonly MirrorGroup[]]> = [
  [/^\/library\//, ['library', 'history']],
  [/^\/:\/(scrobble|unscrobble|rate|progress|timeline)\b/, ['library', 'history', 'live']],
]

/** The groups a write to `path` can change. */
export function groupsChangedBy(path: string): readonly MirrorGroup[] {
  for (const [pattern, groups] of WRITE_DROPS) if (pattern.test(path)) return groups
  return MIRROR_GROUPS
}
