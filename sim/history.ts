import type { Library } from './library/store.js'
import { TYPE } from './library/types.js'
import { mulberry32 } from './random.js'

const DAY = 86_400

export interface HistoryFilter {
  viewedAtMin?: number // inclusive
  viewedAtMax?: number // inclusive
  accountId?: number
  sectionId?: number
  ratingKeyRow?: number
}

/**
 * Watch history as parallel typed arrays ordered by viewedAt (and so by historyKey,
 * which is row + 1). Sessions that stop append rows at the live clock, which only moves
 * forward, so the order holds without re-sorting.
 */
export class HistoryStore {
  size = 0
  version = 0
  item = new Int32Array(0)
  account = new Uint32Array(0)
  viewedAt = new Uint32Array(0)
  device = new Uint16Array(0)

  private readonly matchCache = new Map<string, { version: number; rows: Int32Array }>()

  constructor(capacity: number) {
    this.grow(Math.max(16, capacity))
  }

  append(itemRow: number, accountId: number, viewedAt: number, deviceId: number): number {
    if (this.size === this.item.length) this.grow(this.item.length * 2)
    const row = this.size++
    this.item[row] = itemRow
    this.account[row] = accountId
    this.viewedAt[row] = viewedAt
    this.device[row] = deviceId
    this.version++
    return row
  }

  /** First row with viewedAt >= t (binary search over the sorted column). */
  lowerBound(t: number): number {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.viewedAt[mid]! < t) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Rows matching `filter`, ascending. Time bounds narrow by binary search; account and
   * section filters scan that range once and are cached until history changes.
   */
  query(lib: Library, filter: HistoryFilter): { from: number; to: number; rows: Int32Array | null } {
    const from = filter.viewedAtMin !== undefined ? this.lowerBound(filter.viewedAtMin) : 0
    const to = filter.viewedAtMax !== undefined ? this.lowerBound(filter.viewedAtMax + 1) : this.size
    if (filter.accountId === undefined && filter.sectionId === undefined && filter.ratingKeyRow === undefined) {
      return { from, to: Math.max(from, to), rows: null }
    }
    const key = `${from}:${to}:${filter.accountId}:${filter.sectionId}:${filter.ratingKeyRow}`
    const cached = this.matchCache.get(key)
    if (cached && cached.version === this.version) return { from, to, rows: cached.rows }
    const out: number[] = []
    for (let r = from; r < to; r++) {
      if (filter.accountId !== undefined && this.account[r] !== filter.accountId) continue
      if (filter.sectionId !== undefined && lib.section[this.item[r]!] !== filter.sectionId) continue
      if (filter.ratingKeyRow !== undefined && this.item[r] !== filter.ratingKeyRow) continue
      out.push(r)
    }
    const rows = Int32Array.from(out)
    if (this.matchCache.size > 64) this.matchCache.clear()
    this.matchCache.set(key, { version: this.version, rows })
    return { from, to, rows }
  }

  private grow(capacity: number): void {
    const item = new Int32Array(capacity)
    item.set(this.item)
    this.item = item
    const account = new Uint32Array(capacity)
    account.set(this.account)
    this.account = account
    const viewedAt = new Uint32Array(capacity)
    viewedAt.set(this.viewedAt)
    this.viewedAt = viewedAt
    const device = new Uint16Array(capacity)
    device.set(this.device)
    this.device = device
  }
}

export interface HistoryGenOptions {
  seed: number
  rows: number
  startTime: number
  accountIds: readonly number[]
  deviceCount: number
}

/**
 * Generates `rows` views spread over the two years before startTime. Each view picks an
 * item that already existed at that moment, favouring recent additions; about 2 % go
 * to items deleted since, which PMS keeps as reduced rows.
 */
export function generateHistory(lib: Library, opts: HistoryGenOptions): HistoryStore {
  const rng = mulberry32(opts.seed ^ 0x415)
  const store = new HistoryStore(opts.rows + 64)
  const live: number[] = []
  const ghosts: number[] = []
  for (let r = 0; r < lib.size; r++) {
    const t = lib.type[r]
    if (t !== TYPE.movie && t !== TYPE.episode && t !== TYPE.track) continue
    ;(lib.deleted[r] ? ghosts : live).push(r)
  }
  if (live.length === 0 || opts.rows === 0) return store
  live.sort((a, b) => lib.addedAt[a]! - lib.addedAt[b]!)
  const earliest = lib.addedAt[live[0]!]!
  const end = opts.startTime - 60
  const begin = Math.min(end - 1, Math.max(end - 2 * 365 * DAY, earliest + 3600))

  const times = new Uint32Array(opts.rows)
  for (let i = 0; i < opts.rows; i++) times[i] = begin + Math.floor(rng() * (end - begin))
  times.sort()

  // Account weights: the owner watches most, then a long tail of shared users.
  const weights = opts.accountIds.map((_, i) => (i === 0 ? 4 : 1 / (1 + i * 0.3)))
  const total = weights.reduce((a, b) => a + b, 0)
  const cumulative = new Float64Array(weights.length)
  let acc = 0
  weights.forEach((w, i) => {
    acc += w / total
    cumulative[i] = acc
  })

  let available = 0
  for (let i = 0; i < opts.rows; i++) {
    const t = times[i]!
    while (available < live.length && lib.addedAt[live[available]!]! <= t) available++
    let itemRow: number
    if (ghosts.length > 0 && rng() < 0.02) {
      itemRow = ghosts[Math.floor(rng() * ghosts.length)]!
    } else {
      const pool = Math.max(1, available)
      const u = rng()
      itemRow = live[pool - 1 - Math.floor(pool * u * u * u)]!
    }
    const a = rng()
    let ai = 0
    while (ai < cumulative.length - 1 && a > cumulative[ai]!) ai++
    store.append(itemRow, opts.accountIds[ai]!, t, 1 + Math.floor(rng() * opts.deviceCount))
  }
  store.version = 0
  return store
}
