import type { MemoryLayer, MemoryLru } from './memory.js'
import type { KeyBounds } from './policy.js'
import type { Scope } from './scope.js'
import type { CacheSetup } from './setup.js'
import { KeySlot, type SlotOwner, type StoredEntry } from './slot.js'

/**
 * One cache's part of the memory tier: its key slots, its entries in the registry's byte map,
 * and what bounds them (the byte budget, a scope's quota, a keyed cache's `maxKeys`/`maxBytes`).
 * Keeps `counters.entries` and `counters.bytes` exact, whatever removes an entry.
 */
export class MemoryStore<V> implements SlotOwner {
  /** The state of every key read, loaded or failing (unscoped keys and scopes' own keys). */
  readonly slots = new Map<string, KeySlot<V>>()
  /** Slots of scopes' views (memory only, never loaded, refreshed or reloaded). */
  readonly viewSlots = new Map<string, KeySlot<V>>()
  readonly lru: MemoryLru
  /** Set by `Cache.close`: no more timers, refreshes or patches. */
  closed = false
  /** Entries and bytes of scopes (in `counters` too): each scope has its own quota, outside the bounds. */
  private scopedEntries = 0
  private scopedBytes = 0

  constructor(
    private readonly setup: CacheSetup<unknown>,
    private readonly memory: MemoryLayer,
    /** The refresh point of a value stored now (refresh-ahead's, with jitter). */
    private readonly refreshPointOf: (entry: StoredEntry<V>) => number,
    /** Told of a current key whose value left memory (evicted or over the bounds): its timer is rescheduled. */
    private readonly onUnheld: (slot: KeySlot<V>) => void,
  ) {
    this.lru = memory.lru
  }

  slotFor(key: string, args: unknown, scope?: Scope): KeySlot<V> {
    let slot = this.slots.get(key)
    if (slot === undefined) {
      slot = new KeySlot<V>(key, args, this, scope)
      this.slots.set(key, slot)
    }
    return slot
  }

  /** The current slot of a scope's view, a new one after a clear. */
  viewSlotFor(key: string, args: unknown, scope: Scope): KeySlot<V> {
    let slot = this.viewSlots.get(key)
    if (slot === undefined || slot.retired) {
      slot = new KeySlot<V>(key, args, this, scope)
      this.viewSlots.set(key, slot)
    }
    return slot
  }

  /** The held value (fresh or expired) while it may still be served stale. */
  keptEntry(key: string, now: number): StoredEntry<V> | undefined {
    const entry = this.lru.peek(key) as StoredEntry<V> | undefined
    return entry !== undefined && now - entry.loadedAt < this.setup.keepMs ? entry : undefined
  }

  /** Holds `entry` in memory (within the scope's quota for a scoped key); false when it is too large to hold. */
  store(slot: KeySlot<V>, entry: StoredEntry<V>): boolean {
    const { counters } = this.setup
    const scope = slot.scope
    if (!this.memory.fits(entry.bytes) || (scope !== undefined && !scope.fits(entry.bytes))) {
      counters.oversized++
      this.lru.delete(slot.key)
      slot.refreshAt = Infinity
      this.setup.logger?.info(
        {
          cache: this.setup.name,
          key: slot.key,
          bytes: entry.bytes,
          maxBytes: scope === undefined ? this.memory.maxBytes : scope.maxBytes,
        },
        scope === undefined
          ? 'cache value exceeds the memory budget; not held'
          : "cache value exceeds its scope's quota; not held",
      )
      return false
    }
    scope?.makeRoom(slot.key, entry.bytes, this.lru)
    this.lru.set(slot.key, entry as StoredEntry<unknown>)
    counters.entries++
    counters.bytes += entry.bytes
    // A scope is held within its own quota; the cache's bounds count the unscoped keys.
    if (scope !== undefined) {
      scope.added(slot.key, entry.bytes)
      this.scopedEntries++
      this.scopedBytes += entry.bytes
    } else if (this.setup.bounds !== undefined) {
      this.enforceBounds(this.setup.bounds, slot.key)
    }
    slot.refreshAt = this.refreshPointOf(entry)
    return true
  }

  /** Drops this cache's least recently read keys (never `keep`) until it is within its bounds. */
  private enforceBounds(bounds: KeyBounds, keep: string): void {
    const { counters } = this.setup
    while (
      counters.entries - this.scopedEntries > bounds.maxKeys ||
      counters.bytes - this.scopedBytes > bounds.maxBytes
    ) {
      let victim: KeySlot<V> | undefined
      for (const slot of this.slots.values()) {
        if (slot.key === keep || slot.scope !== undefined || this.lru.peek(slot.key) === undefined) continue
        if (victim === undefined || slot.lastReadAt < victim.lastReadAt) victim = slot
      }
      const dropped = victim ?? this.slots.get(keep)
      if (dropped === undefined) return
      counters.evictions++
      this.lru.delete(dropped.key)
      dropped.refreshAt = Infinity
      this.onUnheld(dropped)
      if (dropped.key === keep) return
    }
  }

  /** @internal memory layer callback */
  onRemoved(entry: StoredEntry<unknown>, evicted: boolean): void {
    const { counters } = this.setup
    counters.entries--
    counters.bytes -= entry.bytes
    const slot = entry.slot as KeySlot<V>
    if (slot.scope !== undefined) {
      slot.scope.removed(slot.key, entry.bytes)
      this.scopedEntries--
      this.scopedBytes -= entry.bytes
      const views = slot.viewOf?.slot.views
      if (views !== undefined && views[slot.scope.index] === entry) views[slot.scope.index] = undefined
    }
    if (!evicted) return
    counters.evictions++
    if (this.slots.get(slot.key) === slot) {
      slot.refreshAt = Infinity
      this.onUnheld(slot)
    }
  }

  /** What of `counters.entries` and `counters.bytes` is held for scopes. */
  scopedHeld(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.scopedEntries, bytes: this.scopedBytes }
  }

  /** The keys held now (fresh or kept for stale), with the arguments they were first read with. */
  heldKeys(): Array<{ key: string; args: unknown }> {
    const held: Array<{ key: string; args: unknown }> = []
    for (const slot of this.slots.values()) {
      if (this.lru.peek(slot.key) !== undefined) held.push({ key: slot.key, args: slot.args })
    }
    return held
  }

  /** Age of the youngest value held, null when nothing is held. */
  youngestAgeMs(): number | null {
    const now = this.setup.clock.now()
    let ageMs: number | null = null
    for (const slot of this.slots.values()) {
      const entry = this.lru.peek(slot.key)
      if (entry !== undefined && (ageMs === null || now - entry.loadedAt < ageMs))
        ageMs = Math.max(0, now - entry.loadedAt)
    }
    return ageMs
  }

  /** Drops every key and view; loads in flight never write back. */
  dropAll(): void {
    for (const slot of this.slots.values()) this.retire(slot)
    for (const slot of this.viewSlots.values()) this.retire(slot)
    this.slots.clear()
    this.viewSlots.clear()
  }

  /** Drops one scope's keys and views. */
  dropScope(scopeId: string): void {
    for (const slots of [this.slots, this.viewSlots]) {
      for (const slot of slots.values()) {
        if (slot.scope?.id !== scopeId) continue
        this.retire(slot)
        slots.delete(slot.key)
      }
    }
  }

  dropKey(key: string): void {
    const slot = this.slots.get(key)
    if (slot === undefined) return
    this.retire(slot)
    this.slots.delete(key)
  }

  private retire(slot: KeySlot<V>): void {
    slot.retired = true
    if (slot.timer !== undefined) this.setup.clock.clearTimer(slot.timer)
    slot.timer = undefined
    this.lru.delete(slot.key)
  }
}
