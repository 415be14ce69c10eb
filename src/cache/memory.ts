import { createByteMap, type ByteMap, type EvictionPolicy } from './eviction/index.js'
import type { StoredEntry } from './slot.js'

export type MemoryLru = ByteMap<string, StoredEntry<unknown>>

/**
 * The first tier: one byte-bounded map for every cache of a registry, under one budget and one
 * eviction policy (`lru`: lru-cache; `w-tinylfu`: see eviction/w-tinylfu.ts). Each entry's owner
 * hears of its removal, so per-cache entries and bytes stay exact.
 */
export class MemoryLayer {
  readonly lru: MemoryLru

  constructor(
    readonly maxBytes: number,
    readonly eviction: EvictionPolicy = 'lru',
  ) {
    this.lru = createByteMap<string, StoredEntry<unknown>>(eviction, {
      maxBytes,
      sizeOf: (entry) => entry.bytes,
      onRemove: (entry, _key, reason) => entry.slot.owner.onRemoved(entry, reason === 'evict'),
    })
  }

  /** False when the entry alone exceeds the budget: it is not held. */
  fits(bytes: number): boolean {
    return bytes <= this.maxBytes
  }
}
