/** How a byte-bounded map chooses what leaves when it is full. */
export type EvictionPolicy = 'lru' | 'w-tinylfu'

export const EVICTION_POLICIES: readonly EvictionPolicy[] = ['lru', 'w-tinylfu']

/** Why an entry left: pushed out by the budget, replaced by `set`, or deleted. */
export type RemovalReason = 'evict' | 'set' | 'delete'

/**
 * A map bounded by the sum of its entries' sizes (bytes). Both policies keep this shape, which is
 * lru-cache's: `get` counts an access, `peek` does not; an entry larger than the whole budget is
 * not held.
 */
export interface ByteMap<K, V> {
  readonly maxSize: number
  /** Entries held. */
  readonly size: number
  /** Bytes held. */
  readonly calculatedSize: number
  get(key: K): V | undefined
  peek(key: K): V | undefined
  has(key: K): boolean
  set(key: K, value: V): this
  delete(key: K): boolean
  clear(): void
}

export interface ByteMapOptions<K, V> {
  readonly maxBytes: number
  readonly sizeOf: (value: V, key: K) => number
  /** Called synchronously whenever an entry leaves (also on `set` over an old value and on `clear`). */
  readonly onRemove?: (value: V, key: K, reason: RemovalReason) => void
  /** W-TinyLFU only: the key's 32-bit hash for the frequency sketch. Default FNV-1a of `String(key)`. */
  readonly hashOf?: (key: K) => number
}
