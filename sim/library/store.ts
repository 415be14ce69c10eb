import { hash32, intBetween, unit } from '../random.js'
import { personName, phrase } from './names.js'
import { LEAF_TYPES, TYPE, type Section, type TypeId } from './types.js'

/** ratingKeys start here so they look like a lived-in server's, not 1, 2, 3. */
export const RATING_KEY_BASE = 20000

export interface NewItem {
  type: TypeId
  section: number
  parent: number
  index: number
  year: number
  duration: number
  addedAt: number
  deleted?: boolean
  title?: string
}

/**
 * The library as parallel typed arrays: one row per item (deleted ones included, so
 * their history rows can still name them). Titles and descriptive fields are derived
 * from (seed, row) on demand, so 100k items cost a few megabytes.
 */
export class Library {
  readonly seed: number
  readonly sections: Section[]
  size = 0
  /** Bumped on every change; response caches key on it. */
  version = 0

  type = new Uint8Array(0)
  section = new Uint8Array(0)
  parent = new Int32Array(0)
  index = new Uint16Array(0)
  year = new Uint16Array(0)
  duration = new Uint32Array(0)
  addedAt = new Uint32Array(0)
  deleted = new Uint8Array(0)

  private readonly children = new Map<number, number[]>()
  private readonly titleOverrides = new Map<number, string>()
  private readonly titleCache: (string | undefined)[] = []
  private readonly counts = new Map<number, Map<number, number>>()
  private readonly listingCache = new Map<string, { version: number; rows: Int32Array }>()

  constructor(seed: number, sections: Section[], capacity: number) {
    this.seed = seed
    this.sections = sections
    this.grow(Math.max(16, capacity))
    for (const s of sections) this.counts.set(s.id, new Map())
  }

  ratingKey(row: number): number {
    return RATING_KEY_BASE + row
  }

  rowOf(ratingKey: string | number): number {
    const n = typeof ratingKey === 'number' ? ratingKey : Number(ratingKey)
    if (!Number.isInteger(n)) return -1
    const row = n - RATING_KEY_BASE
    return row >= 0 && row < this.size ? row : -1
  }

  exists(row: number): boolean {
    return row >= 0 && row < this.size && this.deleted[row] === 0
  }

  sectionById(id: number): Section | undefined {
    return this.sections.find((s) => s.id === id)
  }

  add(item: NewItem): number {
    if (this.size === this.type.length) this.grow(this.type.length * 2)
    const row = this.size++
    this.type[row] = item.type
    this.section[row] = item.section
    this.parent[row] = item.parent
    this.index[row] = item.index
    this.year[row] = item.year
    this.duration[row] = item.duration
    this.addedAt[row] = item.addedAt
    this.deleted[row] = item.deleted ? 1 : 0
    if (item.title !== undefined) this.titleOverrides.set(row, item.title)
    if (item.parent >= 0) {
      const list = this.children.get(item.parent)
      if (list) list.push(row)
      else this.children.set(item.parent, [row])
    }
    if (!item.deleted) this.bumpCount(item.section, item.type, 1)
    this.version++
    return row
  }

  /** Marks an item and its descendants deleted; returns the rows that were removed. */
  remove(row: number): number[] {
    if (!this.exists(row)) return []
    const removed: number[] = []
    const stack = [row]
    while (stack.length > 0) {
      const r = stack.pop()!
      if (this.deleted[r] === 1) continue
      this.deleted[r] = 1
      this.bumpCount(this.section[r]!, this.type[r]!, -1)
      removed.push(r)
      for (const c of this.children.get(r) ?? []) stack.push(c)
    }
    this.version++
    return removed
  }

  childrenOf(row: number): number[] {
    return (this.children.get(row) ?? []).filter((c) => this.deleted[c] === 0)
  }

  count(sectionId: number, type: number): number {
    return this.counts.get(sectionId)?.get(type) ?? 0
  }

  totalLive(): number {
    let n = 0
    for (const m of this.counts.values()) for (const v of m.values()) n += v
    return n
  }

  countsByType(): Record<string, number> {
    const out: Record<number, number> = {}
    for (const m of this.counts.values()) for (const [t, v] of m) out[t] = (out[t] ?? 0) + v
    return out
  }

  /** Titles are derived, but memoised: every listing and history row asks for several. */
  title(row: number): string {
    let t = this.titleCache[row]
    if (t === undefined) {
      t = this.titleOverrides.get(row) ?? this.deriveTitle(row)
      this.titleCache[row] = t
    }
    return t
  }

  private deriveTitle(row: number): string {
    const seed = this.seed
    switch (this.type[row]) {
      case TYPE.movie:
        return phrase(seed, row, 11)
      case TYPE.show:
        return phrase(seed, row, 21)
      case TYPE.season:
        return this.index[row] === 0 ? 'Specials' : `Season ${this.index[row]}`
      case TYPE.episode:
        return hash32(seed, row, 30) % 6 === 0 ? `Episode ${this.index[row]}` : phrase(seed, row, 31)
      case TYPE.artist:
        return hash32(seed, row, 40) % 2 === 0 ? personName(seed, row, 41) : phrase(seed, row, 42)
      case TYPE.album:
        return phrase(seed, row, 51)
      case TYPE.track:
        return phrase(seed, row, 61)
      case TYPE.photo:
        return `IMG_${String(1000 + (row % 9000)).padStart(4, '0')}`
      default:
        return `Item ${row}`
    }
  }

  titleSort(row: number): string {
    const t = this.title(row)
    return t.startsWith('The ') ? t.slice(4) : t
  }

  parentRow(row: number): number {
    return this.parent[row] ?? -1
  }

  grandparentRow(row: number): number {
    const p = this.parentRow(row)
    return p >= 0 ? this.parentRow(p) : -1
  }

  /** A stable "updated" timestamp a little after addedAt, used in image URLs. */
  updatedAt(row: number): number {
    return this.addedAt[row]! + intBetween(unit(hash32(this.seed, row, 3)), 60, 86_400)
  }

  leafCount(row: number): number {
    const t = this.type[row]
    if (t === TYPE.season || t === TYPE.album) return this.childrenOf(row).length
    if (t === TYPE.show || t === TYPE.artist) {
      let n = 0
      for (const c of this.childrenOf(row)) n += this.childrenOf(c).length
      return n
    }
    return 0
  }

  /**
   * Live rows of one type in a section, ordered by `sort` (`titleSort` by default,
   * `addedAt`, or `ratingKey` = row order), cached until the library changes.
   */
  listing(
    sectionId: number,
    type: number,
    sort: 'titleSort' | 'addedAt:desc' | 'addedAt:asc' | 'ratingKey' = 'titleSort',
  ): Int32Array {
    const key = `${sectionId}:${type}:${sort}`
    const cached = this.listingCache.get(key)
    if (cached && cached.version === this.version) return cached.rows
    const rows: number[] = []
    for (let r = 0; r < this.size; r++) {
      if (this.section[r] === sectionId && this.type[r] === type && this.deleted[r] === 0) rows.push(r)
    }
    if (sort === 'titleSort') {
      const keys = new Map<number, string>()
      for (const r of rows) keys.set(r, this.titleSort(r))
      rows.sort((a, b) => {
        const ka = keys.get(a)!
        const kb = keys.get(b)!
        return ka < kb ? -1 : ka > kb ? 1 : a - b
      })
    } else if (sort !== 'ratingKey') {
      const dir = sort === 'addedAt:desc' ? -1 : 1
      rows.sort((a, b) => dir * (this.addedAt[a]! - this.addedAt[b]!) || dir * (a - b))
    }
    const out = Int32Array.from(rows)
    this.listingCache.set(key, { version: this.version, rows: out })
    return out
  }

  /** Live leaf rows (movies, episodes, tracks, photos), newest first; one section or all. */
  recentLeaves(sectionId: number | null): Int32Array {
    const key = `recent:${sectionId ?? '*'}`
    const cached = this.listingCache.get(key)
    if (cached && cached.version === this.version) return cached.rows
    const rows: number[] = []
    for (let r = 0; r < this.size; r++) {
      if (this.deleted[r] !== 0 || !LEAF_TYPES.has(this.type[r]!)) continue
      if (sectionId !== null && this.section[r] !== sectionId) continue
      rows.push(r)
    }
    rows.sort((a, b) => this.addedAt[b]! - this.addedAt[a]! || b - a)
    const out = Int32Array.from(rows)
    this.listingCache.set(key, { version: this.version, rows: out })
    return out
  }

  private bumpCount(sectionId: number, type: number, delta: number): void {
    const m = this.counts.get(sectionId)
    if (m) m.set(type, (m.get(type) ?? 0) + delta)
  }

  private grow(capacity: number): void {
    const copy = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(src: T, make: (n: number) => T): T => {
      const dst = make(capacity)
      dst.set(src)
      return dst
    }
    this.type = copy(this.type, (n) => new Uint8Array(n))
    this.section = copy(this.section, (n) => new Uint8Array(n))
    this.parent = copy(this.parent, (n) => new Int32Array(n))
    this.index = copy(this.index, (n) => new Uint16Array(n))
    this.year = copy(this.year, (n) => new Uint16Array(n))
    this.duration = copy(this.duration, (n) => new Uint32Array(n))
    this.addedAt = copy(this.addedAt, (n) => new Uint32Array(n))
    this.deleted = copy(this.deleted, (n) => new Uint8Array(n))
  }
}
