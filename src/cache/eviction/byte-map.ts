import { LRUCache } from 'lru-cache'
import { WTinyLfu, type WTinyLfuOptions } from './w-tinylfu.js'

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

/** A byte-bounded map with the given policy: lru-cache itself for `lru`, `WTinyLfu` for `w-tinylfu`. */
export function createByteMap<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  policy: EvictionPolicy,
  options: ByteMapOptions<K, V> & WTinyLfuOptions,
): ByteMap<K, V> {
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
    throw new Error(`maxBytes ${options.maxBytes} is not a positive whole number of bytes`)
  }
  if (policy === 'w-tinylfu') return new WTinyLfu<K, V>(options)
  if (policy !== 'lru') throw new Error(`eviction policy "${String(policy)}" is unknown; use ${EVICTION_POLICIES.join(' or ')}`)
  const { onRemove } = options
  return new LRUCache<K, V>({
    maxSize: options.maxBytes,
    // lru-cache refuses a size of 0.
    sizeCalculation: (value, key) => Math.max(1, options.sizeOf(value, key)),
    dispose: onRemove === undefined ? undefined : (value, key, reason) => onRemove(value, key, reason === 'set' || reason === 'delete' ? reason : 'evict'),
  })
}

export function isEvictionPolicy(value: string): value is EvictionPolicy {
  return (EVICTION_POLICIES as readonly string[]).includes(value)
}
