import type { MemoryStore } from './memory-store.js'
import { SCOPE_MARK } from './scope.js'
import type { CacheSetup } from './setup.js'
import type { SharedBound, SharedHit, SharedLayer } from './shared.js'
import { StoredEntry, type KeySlot } from './slot.js'

/**
 * One cache's use of the shared layer (`shared: true` caches; otherwise every call is a no-op):
 * reads and writes that never throw, each key's stale window and bound group, adoption of a
 * value another instance loaded, and deletes for clears.
 */
export class SharedTier<V> {
  private readonly bound: SharedBound | undefined

  constructor(
    private readonly setup: CacheSetup<unknown>,
    /** The registry's shared layer, undefined for a cache that keeps its values to itself. */
    readonly layer: SharedLayer | undefined,
    private readonly store: MemoryStore<V>,
    /** The keys of `warmArgs`: they keep the full stale window in the shared layer, variants a shorter one. */
    private readonly baseKeys: ReadonlySet<string>,
    /** Whether scopes load values of their own (`ScopedReads` kind `own`), kept under their scope's keys. */
    private readonly scopesOwnKeys: boolean,
  ) {
    const { bounds, key } = setup
    this.bound = bounds && { group: `${key}:`, maxKeys: bounds.maxKeys, maxBytes: bounds.maxBytes }
  }

  async get(key: string): Promise<SharedHit | undefined> {
    if (this.layer === undefined) return undefined
    try {
      return await this.layer.get(key)
    } catch {
      return undefined
    }
  }

  /** Writes a value to the shared layer (a query variant of a keyed cache for a shorter stale window); never throws. */
  async set(slot: KeySlot<V>, entry: StoredEntry<V>): Promise<void> {
    if (this.layer === undefined) return
    const { bounds, policy, ttlMs } = this.setup
    const staleMs = bounds === undefined || this.baseKeys.has(slot.key) ? policy.maxStaleMs : bounds.variantMaxStaleMs
    await this.layer
      .set(slot.key, { json: entry.json, fetchedAt: entry.fetchedAt }, ttlMs, staleMs, this.boundOf(slot))
      .catch(() => undefined)
  }

  /** A value from the shared layer, aged as the shared layer says; undefined if its JSON is corrupt. */
  adopt(slot: KeySlot<V>, found: SharedHit): StoredEntry<V> | undefined {
    let value: V
    try {
      value = JSON.parse(found.json) as V
    } catch {
      return undefined
    }
    const entry = new StoredEntry(value, found.json, this.setup.clock.now() - found.ageMs, found.fetchedAt, slot)
    this.setup.counters.sharedHits++
    if (!slot.retired) this.store.store(slot, entry)
    return entry
  }

  /** A scope's keys are bounded apart in the shared layer too: one viewer's pages never push out another's. */
  private boundOf(slot: KeySlot<V>): SharedBound | undefined {
    const bound = this.bound
    if (bound === undefined || slot.scope === undefined) return bound
    return { ...bound, group: `${this.setup.key}:${SCOPE_MARK}${slot.scope.id}:` }
  }

  /** Deletes one key; undefined without a shared layer, false on trouble. */
  delete(key: string): Promise<boolean> | undefined {
    return this.layer?.delete([key]).catch(() => false)
  }

  /** Drops the cache's keys; false without a shared layer or on trouble. */
  async clear(): Promise<boolean> {
    if (this.layer === undefined) return false
    const { key, keyed } = this.setup
    const [deleted, cleared] = await Promise.all([
      this.layer.delete([key]).catch(() => false),
      keyed ? this.layer.clear(`${key}:`).catch(() => false) : true,
    ])
    return deleted && cleared
  }

  /** Drops one scope's keys; true when there were none to share. */
  async clearScope(scopeId: string): Promise<boolean> {
    if (this.layer === undefined || !this.scopesOwnKeys) return true
    const base = `${this.setup.key}:${SCOPE_MARK}${scopeId}`
    return this.setup.keyed
      ? this.layer.clear(`${base}:`).catch(() => false)
      : this.layer.delete([base]).catch(() => false)
  }
}
