import { el, item, type El } from '../container.js'
import type { HistoryFilter } from '../history.js'
import { containerReply, htmlError, page, pagingHeaders, type Reply, type RequestContext } from '../http/reply.js'
import { artPath, thumbPath, xmlTag } from '../library/render.js'
import { TYPE, TYPE_NAME } from '../library/types.js'
import type { World } from '../world.js'

const FILTER = /^(viewedAt|accountID|librarySectionID|metadataItemID)(>=|<=|>|<|=)(-?\d+)$/

/**
 * Filters come as `viewedAt>=1700000000`, which URLSearchParams would split into the
 * key `viewedAt>`; parse the raw pairs instead.
 */
export function parseHistoryQuery(
  world: World,
  rawQuery: string,
): { filter: HistoryFilter; sort: 'asc' | 'desc' } | null {
  const filter: HistoryFilter = {}
  let sort: 'asc' | 'desc' = 'asc'
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue
    let decoded: string
    try {
      decoded = decodeURIComponent(pair.replace(/\+/g, ' '))
    } catch {
      return null
    }
    if (decoded.startsWith('sort=')) {
      const value = decoded.slice(5)
      if (value === 'viewedAt:desc') sort = 'desc'
      else if (value === 'viewedAt' || value === 'viewedAt:asc') sort = 'asc'
      else return null
      continue
    }
    const m = FILTER.exec(decoded)
    if (!m) continue
    const [, field, op, value] = m
    const n = Number(value)
    if (field === 'viewedAt') {
      if (op === '>=' || op === '=') filter.viewedAtMin = Math.max(filter.viewedAtMin ?? 0, n)
      if (op === '>') filter.viewedAtMin = Math.max(filter.viewedAtMin ?? 0, n + 1)
      if (op === '<=' || op === '=') filter.viewedAtMax = Math.min(filter.viewedAtMax ?? Infinity, n)
      if (op === '<') filter.viewedAtMax = Math.min(filter.viewedAtMax ?? Infinity, n - 1)
    } else if (op === '=') {
      if (field === 'accountID') filter.accountId = n
      else if (field === 'librarySectionID') filter.sectionId = n
      else filter.ratingKeyRow = world.library.rowOf(n)
    }
  }
  return { filter, sort }
}

/**
 * One history row. Rows of items deleted since keep only historyKey, title, type,
 * viewedAt, accountID and librarySectionID, as PMS does.
 */
export function historyRow(world: World, h: number): El {
  const lib = world.library
  const hist = world.history
  const row = hist.item[h]!
  const type = lib.type[row]!
  const historyKey = `/status/sessions/history/${h + 1}`
  const sectionId = String(lib.section[row])
  if (!lib.exists(row)) {
    return item(xmlTag(type), {
      historyKey,
      title: lib.title(row),
      type: TYPE_NAME[type],
      viewedAt: hist.viewedAt[h],
      accountID: hist.account[h],
      librarySectionID: sectionId,
    })
  }
  const rk = lib.ratingKey(row)
  const parent = lib.parentRow(row)
  const grandparent = parent >= 0 ? lib.parentRow(parent) : -1
  const episodeLike = type === TYPE.episode || type === TYPE.track
  return item(xmlTag(type), {
    historyKey,
    key: `/library/metadata/${rk}`,
    ratingKey: String(rk),
    librarySectionID: sectionId,
    parentKey: parent >= 0 ? `/library/metadata/${lib.ratingKey(parent)}` : undefined,
    grandparentKey: grandparent >= 0 ? `/library/metadata/${lib.ratingKey(grandparent)}` : undefined,
    title: lib.title(row),
    grandparentTitle: grandparent >= 0 ? lib.title(grandparent) : undefined,
    type: TYPE_NAME[type],
    thumb: type === TYPE.track ? thumbPath(lib, parent) : thumbPath(lib, row),
    parentThumb: parent >= 0 ? thumbPath(lib, parent) : undefined,
    grandparentThumb: grandparent >= 0 ? thumbPath(lib, grandparent) : undefined,
    grandparentArt: grandparent >= 0 ? artPath(lib, grandparent) : undefined,
    index: episodeLike ? lib.index[row] : undefined,
    parentIndex: episodeLike ? lib.index[parent] : undefined,
    originallyAvailableAt: type === TYPE.track ? undefined : `${lib.year[row]}-01-01`,
    viewedAt: hist.viewedAt[h],
    accountID: hist.account[h],
    deviceID: hist.device[h],
  })
}

/** `GET /status/sessions/history/all`, with `sort=viewedAt:desc`, `viewedAt>=`, `accountID`, `librarySectionID` and paging. */
export function history(ctx: RequestContext): Reply {
  const parsed = parseHistoryQuery(ctx.world, ctx.rawQuery)
  if (!parsed) return htmlError(400)
  const hist = ctx.world.history
  const match = hist.query(ctx.world.library, parsed.filter)
  const total = match.rows ? match.rows.length : match.to - match.from
  const { from, to, attrs } = page(ctx.paging, total, null)
  const children: El[] = []
  for (let i = from; i < to; i++) {
    const k = parsed.sort === 'desc' ? total - 1 - i : i
    const h = match.rows ? match.rows[k]! : match.from + k
    children.push(historyRow(ctx.world, h))
  }
  return containerReply(el('MediaContainer', attrs, children), ctx.format, pagingHeaders(ctx.paging, total))
}
