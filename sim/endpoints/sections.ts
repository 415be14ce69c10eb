import { el, type El } from '../container.js'
import {
  containerReply,
  htmlError,
  MEDIA_TAG_PREFIX,
  MEDIA_TAG_VERSION,
  page,
  pagingHeaders,
  type Reply,
  type RequestContext,
} from '../http/reply.js'
import { itemElement } from '../library/render.js'
import type { Library } from '../library/store.js'
import { TYPE, TYPE_NAME, type Section } from '../library/types.js'
import type { LiveState } from '../live/state.js'

const ART: Readonly<Record<string, string>> = { movie: 'movie', show: 'show', artist: 'artist', photo: 'photo' }

function sectionDirectory(section: Section, live: LiveState): El {
  const scanning = live.activities.some((a) => a.type === 'library.update.section' && a.librarySectionID === section.id)
  return el(
    'Directory',
    {
      allowSync: section.type !== 'photo',
      art: `/:/resources/${ART[section.type]}-fanart.jpg`,
      composite: `/library/sections/${section.id}/composite/${section.scannedAt}`,
      filters: true,
      refreshing: scanning,
      thumb: `/:/resources/${ART[section.type]}.png`,
      key: String(section.id),
      type: section.type,
      title: section.title,
      agent: section.agent,
      scanner: section.scanner,
      language: section.language,
      uuid: section.uuid,
      updatedAt: section.updatedAt,
      createdAt: section.createdAt,
      scannedAt: section.scannedAt,
      content: true,
      directory: true,
      contentChangedAt: section.contentChangedAt,
      // Real servers send `hidden` as 0/1 right next to boolean flags.
      hidden: section.hidden ? 1 : 0,
    },
    [el('Location', { id: section.locationId, path: section.path })],
  )
}

/** `GET /library/sections`: library sections stay `Directory[]` in JSON. */
export function librarySections(ctx: RequestContext): Reply {
  const children = ctx.world.library.sections.map((s) => sectionDirectory(s, ctx.live))
  return containerReply(
    el('MediaContainer', { size: children.length, allowSync: false, title1: 'Plex Library' }, children),
    ctx.format,
  )
}

export function findSection(lib: Library, raw: string | undefined): Section | Reply {
  if (raw === undefined || !/^\d+$/.test(raw)) return htmlError(400)
  return lib.sectionById(Number(raw)) ?? htmlError(404)
}

const TITLE2: Readonly<Record<number, string>> = {
  [TYPE.movie]: 'All Movies',
  [TYPE.show]: 'All Shows',
  [TYPE.season]: 'All Seasons',
  [TYPE.episode]: 'All Episodes',
  [TYPE.artist]: 'All Artists',
  [TYPE.album]: 'All Albums',
  [TYPE.track]: 'All Tracks',
  [TYPE.photo]: 'All Photos',
}

function sortOf(raw: string | null): 'titleSort' | 'addedAt:desc' | 'addedAt:asc' {
  if (raw === 'addedAt:desc') return 'addedAt:desc'
  if (raw === 'addedAt' || raw === 'addedAt:asc') return 'addedAt:asc'
  return 'titleSort'
}

/**
 * `GET /library/sections/{id}/all?type=N`: a section's items of one type, paged by the
 * container headers. With size 0 only `totalSize` comes back: the cheap way to count.
 */
export function sectionAll(ctx: RequestContext): Reply {
  const lib = ctx.world.library
  const section = findSection(lib, ctx.params.id)
  if ('status' in section) return section
  const rawType = ctx.query.get('type')
  if (rawType !== null && !/^\d+$/.test(rawType)) return htmlError(400)
  const type = rawType !== null ? Number(rawType) : section.types[0]!
  const rows = section.types.includes(type as never)
    ? lib.listing(section.id, type, sortOf(ctx.query.get('sort')))
    : new Int32Array(0)
  const { from, to, attrs } = page(ctx.paging, rows.length, null)
  const children: El[] = []
  for (let i = from; i < to; i++) children.push(itemElement(lib, rows[i]!, 'list'))
  const container = el(
    'MediaContainer',
    {
      ...attrs,
      allowSync: section.type !== 'photo',
      art: `/:/resources/${ART[section.type]}-fanart.jpg`,
      identifier: 'com.plexapp.plugins.library',
      librarySectionID: section.id,
      librarySectionTitle: section.title,
      librarySectionUUID: section.uuid,
      mediaTagPrefix: MEDIA_TAG_PREFIX,
      mediaTagVersion: MEDIA_TAG_VERSION,
      nocache: true,
      thumb: `/:/resources/${ART[section.type]}.png`,
      title1: section.title,
      title2: TITLE2[type] ?? 'All',
      viewGroup: TYPE_NAME[type] ?? section.type,
    },
    children,
  )
  return containerReply(container, ctx.format, pagingHeaders(ctx.paging, rows.length))
}
