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
import { TYPE_NAME } from '../library/types.js'

/** `GET /library/metadata/{ratingKey[,ratingKey...]}`: full items; unknown keys are skipped, none known is a 404. */
export function metadata(ctx: RequestContext): Reply {
  const lib = ctx.world.library
  const keys = (ctx.params.ids ?? '').split(',')
  if (keys.some((k) => !/^\d+$/.test(k))) return htmlError(400)
  const rows = keys.map((k) => lib.rowOf(k)).filter((r) => lib.exists(r))
  if (rows.length === 0) return htmlError(404)
  const first = lib.sectionById(lib.section[rows[0]!]!)
  const children = rows.map((r) => itemElement(lib, r, 'full'))
  const container = el(
    'MediaContainer',
    {
      size: children.length,
      allowSync: true,
      identifier: 'com.plexapp.plugins.library',
      librarySectionID: first?.id,
      librarySectionTitle: first?.title,
      librarySectionUUID: first?.uuid,
      mediaTagPrefix: MEDIA_TAG_PREFIX,
      mediaTagVersion: MEDIA_TAG_VERSION,
    },
    children,
  )
  return containerReply(container, ctx.format)
}

/** `GET /library/metadata/{ratingKey}/children`: seasons of a show, episodes of a season, albums, tracks. */
export function metadataChildren(ctx: RequestContext): Reply {
  const lib = ctx.world.library
  const raw = ctx.params.id ?? ''
  if (!/^\d+$/.test(raw)) return htmlError(400)
  const row = lib.rowOf(raw)
  if (!lib.exists(row)) return htmlError(404)
  const rows = lib.childrenOf(row)
  const { from, to, attrs } = page(ctx.paging, rows.length, null)
  const children: El[] = []
  for (let i = from; i < to; i++) children.push(itemElement(lib, rows[i]!, 'list'))
  const section = lib.sectionById(lib.section[row]!)
  const childType = rows.length > 0 ? TYPE_NAME[lib.type[rows[0]!]!] : undefined
  const container = el(
    'MediaContainer',
    {
      ...attrs,
      allowSync: true,
      art: `/library/metadata/${lib.ratingKey(row)}/art/${lib.updatedAt(row)}`,
      identifier: 'com.plexapp.plugins.library',
      key: String(lib.ratingKey(row)),
      librarySectionID: section?.id,
      librarySectionTitle: section?.title,
      librarySectionUUID: section?.uuid,
      mediaTagPrefix: MEDIA_TAG_PREFIX,
      mediaTagVersion: MEDIA_TAG_VERSION,
      nocache: true,
      parentIndex: lib.index[row],
      parentTitle: lib.title(row),
      thumb: `/library/metadata/${lib.ratingKey(row)}/thumb/${lib.updatedAt(row)}`,
      title1: section?.title,
      title2: lib.title(row),
      viewGroup: childType,
    },
    children,
  )
  return containerReply(container, ctx.format, pagingHeaders(ctx.paging, rows.length))
}
