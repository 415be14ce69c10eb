import { LRUCache } from 'lru-cache'
import { EVICTION_POLICIES, type ByteMap, type ByteMapOptions, type EvictionPolicy } from './types.js'
import { WTinyLfu, type WTinyLfuOptions } from './w-tinylfu.js'

/** A byte-bounded map with the given policy: lru-cache itself for `lru`, `WTinyLfu` for `w-tinylfu`. */
export function createByteMap<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  policy: EvictionPolicy,
  options: ByteMapOptions<K, V> & WTinyLfuOptions,
): ByteMap<K, V> {
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
    throw new Error(`maxBytes ${options.maxBytes} is not a positive whole number of bytes`)
  }
  if (policy === 'w-tinylfu') return new WTinyLfu<K, V>(options)
  if (policy !== 'lru')
    throw new Error(`eviction policy "${String(policy)}" is unknown; use ${EVICTION_POLICIES.join(' or ')}`)
  const { onRemove } = options
  return new LRUCache<K, V>({
    maxSize: options.maxBytes,
    // lru-cache refuses a size of 0.
    sizeCalculation: (value, key) => Math.max(1, options.sizeOf(value, key)),
    dispose:
      onRemove === undefined
        ? undefined
        : (value, key, reason) => onRemove(value, key, reason === 'set' || reason === 'delete' ? reason : 'evict'),
  })
}

export function isEvictionPolicy(value: string): value is EvictionPolicy {
  return (EVICTION_POLICIES as readonly string[]).includes(value)
}
