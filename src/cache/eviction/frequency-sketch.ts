/**
 * How often each key was seen recently: a count-min sketch of counters saturating at 15 (4 bits'
 * worth, as in Caffeine's TinyLFU) in four rows of four counters per key it is sized for. It may
 * overestimate a little, never underestimates. Aging: after `sampleFactor × capacity` increments
 * every counter is halved, so a key popular an hour ago does not keep its place forever.
 */
export class FrequencySketch {
  /** Four rows of `width` counters, one byte each. */
  private table: Uint8Array
  private mask: number
  private additions = 0
  private sampleSize: number
  /** The number of keys the table is sized for. */
  private capacity: number

  constructor(
    capacity: number,
    private readonly sampleFactor = 10,
  ) {
    if (!(sampleFactor > 0)) throw new Error(`sampleFactor ${sampleFactor} is not a positive number`)
    this.capacity = powerOfTwoAtLeast(capacity)
    const width = this.capacity * COUNTERS_PER_KEY
    this.table = new Uint8Array(width * ROWS)
    this.mask = width - 1
    this.sampleSize = Math.max(1, Math.round(sampleFactor * this.capacity))
  }

  /** Counters per row. */
  get width(): number {
    return this.mask + 1
  }

  /** Increments since the last halving. */
  get sinceReset(): number {
    return this.additions
  }

  /** Increments between two halvings. */
  get resetAfter(): number {
    return this.sampleSize
  }

  /**
   * Grows the table when the cache holds more keys than it was sized for (a byte budget does not
   * say how many entries it will hold). The keys still held (`held`, their hashes) keep their
   * estimates; the rest restart from zero.
   */
  ensureCapacity(entries: number, held: () => Iterable<number>): void {
    if (entries <= this.capacity) return
    const carried: Array<[number, number]> = []
    for (const hash of held()) carried.push([hash, this.frequency(hash)])
    this.capacity = powerOfTwoAtLeast(entries)
    const width = this.capacity * COUNTERS_PER_KEY
    this.table = new Uint8Array(width * ROWS)
    this.mask = width - 1
    this.sampleSize = Math.max(1, Math.round(this.sampleFactor * this.capacity))
    this.additions = 0
    for (const [hash, count] of carried) {
      for (let row = 0; row < ROWS; row++) {
        const at = row * width + this.index(hash, row)
        this.table[at] = Math.max(this.table[at]!, count)
      }
    }
  }

  /** The estimated count of `hash`: the smallest of its four counters. */
  frequency(hash: number): number {
    const width = this.mask + 1
    let min = MAX_COUNT
    for (let row = 0; row < ROWS; row++) {
      const count = this.table[row * width + this.index(hash, row)]!
      if (count < min) min = count
    }
    return min
  }

  /** Counts one access to `hash`; every `sampleSize` increments, halves all counters. */
  increment(hash: number): void {
    const width = this.mask + 1
    let added = false
    for (let row = 0; row < ROWS; row++) {
      const at = row * width + this.index(hash, row)
      const count = this.table[at]!
      if (count < MAX_COUNT) {
        this.table[at] = count + 1
        added = true
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.halve()
  }

  /** Halves every counter (the aging step); also what a reset after `sampleSize` increments does. */
  halve(): void {
    const table = this.table
    for (let i = 0; i < table.length; i++) table[i] = table[i]! >>> 1
    this.additions = this.additions >>> 1
  }

  private index(hash: number, row: number): number {
    // One multiply-xorshift per row with a row-specific odd seed spreads the 32-bit hash.
    let h = Math.imul(hash ^ SEEDS[row]!, 0x9e3779b1)
    h ^= h >>> 15
    return h & this.mask
  }
}

const ROWS = 4
const COUNTERS_PER_KEY = 4
const MAX_COUNT = 15
const SEEDS = [0x97cb3127, 0xc2b2ae35, 0x85ebca6b, 0x27d4eb2f]

function powerOfTwoAtLeast(entries: number): number {
  let n = 16
  while (n < entries && n < 1 << 22) n <<= 1
  return n
}

/** FNV-1a over a string's UTF-16 code units: a cheap 32-bit hash, computed once per stored key. */
export function hashString(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
