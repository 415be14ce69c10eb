import { LRUCache } from 'lru-cache'
import type { StoredEntry } from './slot.js'

export type MemoryLru = LRUCache<string, StoredEntry<unknown>>

/**
 * The first tier: one LRU for every cache of a registry, bounded by one byte budget. Each
 * entry's owner hears of its removal, so per-cache entries and bytes stay exact.
 */
export class MemoryLayer {
  readonly lru: MemoryLru

  constructor(readonly maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new Error(`maxBytes ${maxBytes} is not a positive whole number of bytes`)
    }
    this.lru = new LRUCache<string, StoredEntry<unknown>>({
      maxSize: maxBytes,
      sizeCalculation: (entry) => entry.bytes,
      dispose: (entry, _key, reason) => entry.slot.owner.onRemoved(entry, reason === 'evict'),
    })
  }

  /** False when the entry alone exceeds the budget: it is not held. */
  fits(bytes: number): boolean {
    return bytes <= this.maxBytes
  }
}
