import type { MemoryStore } from './memory-store.js'
import { REFRESH_JITTER } from './policy.js'
import type { CacheSetup } from './setup.js'
import type { KeySlot, StoredEntry } from './slot.js'

/**
 * Refresh-ahead and expiry of one cache's keys. One timer per key (on the injected clock) wakes
 * at the next thing due: the refresh point (or the end of backoff when a refresh is due), else
 * the end of the stale window; a key with nothing held but a failure history is forgotten once
 * its backoff is long over. At the refresh point a key read within `idleWindowMs` reloads; an
 * idle one is left to age out, until a read past its refresh point revives refreshing.
 */
export class RefreshAhead<V> {
  constructor(
    private readonly setup: CacheSetup<unknown>,
    private readonly store: MemoryStore<V>,
    /** Starts a background load of the key (through its single flight, the shared layer first). */
    private readonly startLoad: (slot: KeySlot<V>) => void,
  ) {}

  /** When a value stored now is due for refresh: `refreshAheadAt × ttl` minus up to 5 % of the TTL of jitter. */
  refreshPointOf(entry: StoredEntry<V>): number {
    const { refreshAfterMs, ttlMs } = this.setup
    return refreshAfterMs === Infinity
      ? Infinity
      : entry.loadedAt + refreshAfterMs - this.setup.context.random() * REFRESH_JITTER * ttlMs
  }

  /** Sets the key's timer for what is due next with `entry` held (or nothing held). */
  schedule(slot: KeySlot<V>, entry: StoredEntry<V> | undefined): void {
    const { clock, policy } = this.setup
    if (slot.timer !== undefined) {
      clock.clearTimer(slot.timer)
      slot.timer = undefined
    }
    if (slot.retired || this.store.closed) return
    const now = clock.now()
    let at: number
    if (entry !== undefined) {
      const dropAt = entry.loadedAt + this.setup.keepMs
      at =
        slot.flight === undefined && slot.refreshAt < dropAt
          ? Math.min(dropAt, Math.max(slot.refreshAt, slot.backoffUntil))
          : dropAt
    } else if (slot.flight !== undefined) {
      return
    } else if (slot.failures > 0 && now < slot.backoffUntil + policy.backoffMaxMs) {
      at = slot.backoffUntil + policy.backoffMaxMs
    } else {
      this.store.slots.delete(slot.key)
      return
    }
    slot.timer = clock.setTimer(() => this.onTimer(slot), at - now)
  }

  /** A read past the refresh point of a key whose timer found it idle refreshes it now. */
  onReadPastRefreshPoint(slot: KeySlot<V>, now: number): void {
    if (
      slot.refreshAt === Infinity &&
      slot.flight === undefined &&
      now >= slot.backoffUntil &&
      !slot.retired &&
      !this.store.closed
    ) {
      this.refresh(slot)
    }
  }

  /** Stops every key's timer (the cache closing). */
  stop(): void {
    for (const slot of this.store.slots.values()) {
      if (slot.timer !== undefined) this.setup.clock.clearTimer(slot.timer)
      slot.timer = undefined
    }
  }

  private onTimer(slot: KeySlot<V>): void {
    slot.timer = undefined
    if (slot.retired || this.store.closed) return
    const now = this.setup.clock.now()
    let entry = this.store.lru.peek(slot.key) as StoredEntry<V> | undefined
    if (entry !== undefined && now - entry.loadedAt >= this.setup.keepMs) {
      this.store.lru.delete(slot.key)
      entry = undefined
    }
    if (entry !== undefined && slot.flight === undefined && now >= slot.refreshAt && now >= slot.backoffUntil) {
      if (now - slot.lastReadAt <= this.setup.policy.idleWindowMs) {
        this.refresh(slot)
        return
      }
      // Idle: let the value age out; a read past the refresh point revives refreshing.
      slot.refreshAt = Infinity
    }
    this.schedule(slot, entry)
  }

  private refresh(slot: KeySlot<V>): void {
    this.setup.counters.refreshes++
    this.setup.logger?.info({ cache: this.setup.name, key: slot.key }, 'cache refresh')
    this.startLoad(slot)
  }
}
