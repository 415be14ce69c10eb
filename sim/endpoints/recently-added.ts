import { el, type El } from '../container.js'
import {
  containerReply,
  MEDIA_TAG_PREFIX,
  MEDIA_TAG_VERSION,
  page,
  pagingHeaders,
  type Reply,
  type RequestContext,
} from '../http/reply.js'
import { itemElement } from '../library/render.js'
import type { Library } from '../library/store.js'
import { TYPE } from '../library/types.js'
import { findSection } from './sections.js'

/** Without paging PMS sends a bounded list; the recorded global list held 50. */
const DEFAULT_SIZE = 50

/** `GET /library/sections/{id}/recentlyAdded`: that section's newest items, ungrouped. */
export function sectionRecentlyAdded(ctx: RequestContext): Reply {
  const lib = ctx.world.library
  const section = findSection(lib, ctx.params.id)
  if ('status' in section) return section
  const rows = lib.recentLeaves(section.id)
  const { from, to, attrs } = page(ctx.paging, rows.length, DEFAULT_SIZE)
  const children: El[] = []
  for (let i = from; i < to; i++) children.push(itemElement(lib, rows[i]!, 'list'))
  const container = el(
    'MediaContainer',
    {
      ...attrs,
      allowSync: section.type !== 'photo',
      identifier: 'com.plexapp.plugins.library',
      librarySectionID: section.id,
      librarySectionTitle: section.title,
      librarySectionUUID: section.uuid,
      mediaTagPrefix: MEDIA_TAG_PREFIX,
      mediaTagVersion: MEDIA_TAG_VERSION,
      mixedParents: true,
      title1: section.title,
      title2: 'Recently Added',
    },
    children,
  )
  return containerReply(container, ctx.format, pagingHeaders(ctx.paging, rows.length))
}

interface Grouped {
  version: number
  rows: Int32Array
  addedAt: Uint32Array
}

const groupedCache = new WeakMap<Library, Grouped>()

/**
 * The global list as PMS builds it: new episodes fold into their season and new tracks
 * into their album, placed where their newest member would be. Photos are left out.
 */
function groupedRecent(lib: Library): Grouped {
  const cached = groupedCache.get(lib)
  if (cached && cached.version === lib.version) return cached
  const leaves = lib.recentLeaves(null)
  const rows: number[] = []
  const addedAt: number[] = []
  const seen = new Set<number>()
  for (let i = 0; i < leaves.length; i++) {
    const row = leaves[i]!
    const type = lib.type[row]
    if (type === TYPE.photo) continue
    const group = type === TYPE.episode || type === TYPE.track ? lib.parentRow(row) : row
    if (seen.has(group)) continue
    seen.add(group)
    rows.push(group)
    addedAt.push(lib.addedAt[row]!)
  }
  const grouped = { version: lib.version, rows: Int32Array.from(rows), addedAt: Uint32Array.from(addedAt) }
  groupedCache.set(lib, grouped)
  return grouped
}

/** `GET /library/recentlyAdded`. */
export function recentlyAdded(ctx: RequestContext): Reply {
  const lib = ctx.world.library
  const grouped = groupedRecent(lib)
  const { from, to, attrs } = page(ctx.paging, grouped.rows.length, DEFAULT_SIZE)
  const children: El[] = []
  for (let i = from; i < to; i++) {
    const row = grouped.rows[i]!
    const node = itemElement(lib, row, 'list')
    const section = lib.sectionById(lib.section[row]!)
    // Seasons and albums sort by their newest member, and carry its time.
    node.attrs = {
      librarySectionID: section?.id,
      librarySectionTitle: section?.title,
      librarySectionUUID: section?.uuid,
      ...node.attrs,
      addedAt: grouped.addedAt[i],
    }
    children.push(node)
  }
  const container = el(
    'MediaContainer',
    {
      ...attrs,
      allowSync: false,
      identifier: 'com.plexapp.plugins.library',
      mediaTagPrefix: MEDIA_TAG_PREFIX,
      mediaTagVersion: MEDIA_TAG_VERSION,
      mixedParents: true,
    },
    children,
  )
  return containerReply(container, ctx.format, pagingHeaders(ctx.paging, grouped.rows.length))
}
