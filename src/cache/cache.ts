import type { CacheEntry, CacheRead } from './entry.js'
import { LoaderRunner } from './loader-runner.js'
import { MemoryStore } from './memory-store.js'
import type { CachePolicy, CacheDeclaration, KeyBounds } from './policy.js'
import { RefreshAhead } from './refresh-ahead.js'
import type { Scope, ScopedReads } from './scope.js'
import { ScopedViews } from './scoped-views.js'
import { resolveSetup, type CacheContext, type CacheSetup } from './setup.js'
import { SharedTier } from './shared-tier.js'
import type { StoredEntry } from './slot.js'
import { CacheCounters, percentiles, type CacheStats } from './stats.js'
import { TwoTierRead } from './two-tier-read.js'
import { UpstreamChanges, type PatchOutcome, type ReloadResult } from './upstream-changes.js'

export type { CacheContext } from './setup.js'
export type { PatchOutcome, ReloadResult } from './upstream-changes.js'

/**
 * One declared cache: the facade over its parts. Reads go memory → single flight per key →
 * shared layer → loader → on failure the last good value (`TwoTierRead`); scoped reads through
 * `ScopedViews`; loader calls, timeouts and backoff in `LoaderRunner`; the shared layer in
 * `SharedTier`; memory and its bounds in `MemoryStore`; timers in `RefreshAhead`; reload, warm,
 * refresh and patch in `UpstreamChanges`.
 */
export class Cache<V, A = void> {
  readonly name: string
  /** The key, or for a keyed cache the prefix of its keys. */
  readonly key: string
  readonly ttlMs: number
  readonly policy: CachePolicy
  readonly keyed: boolean
  /** For a keyed cache: how many keys and bytes it may hold in each tier. */
  readonly bounds: KeyBounds | undefined
  /** Whether values go to (and come from) the registry's shared layer. */
  readonly usesSharedLayer: boolean
  /** How a read for a principal is answered (`ScopedReads`); undefined: no scoped reads. */
  readonly scopedReads: ScopedReads<V>['kind'] | undefined
  /** Live raw counters; read, never write. */
  readonly counters: CacheCounters

  private readonly setup: CacheSetup<A>
  private readonly store: MemoryStore<V>
  private readonly shared: SharedTier<V>
  private readonly runner: LoaderRunner<V, A>
  private readonly refreshAhead: RefreshAhead<V>
  private readonly reads: TwoTierRead<V, A>
  private readonly views: ScopedViews<V, A>
  private readonly changes: UpstreamChanges<V, A>

  constructor(declaration: CacheDeclaration<V, A>, context: CacheContext) {
    const setup = resolveSetup(declaration, context)
    this.setup = setup
    this.name = setup.name
    this.key = setup.key
    this.ttlMs = setup.ttlMs
    this.policy = setup.policy
    this.keyed = setup.keyed
    this.bounds = setup.bounds
    this.counters = setup.counters
    this.scopedReads = declaration.scoped?.kind

    const store = new MemoryStore<V>(
      setup,
      context.memory,
      (entry) => this.refreshAhead.refreshPointOf(entry),
      (slot) => this.refreshAhead.schedule(slot, undefined),
    )
    const warmArgs = declaration.warmArgs ?? []
    const shared = new SharedTier<V>(
      setup,
      setup.policy.shared ? context.shared : undefined,
      store,
      new Set(warmArgs.map((args) => setup.keyFor(args))),
      declaration.scoped?.kind === 'own',
    )
    const runner = new LoaderRunner<V, A>(setup, declaration.load, (slot, entry) => {
      store.store(slot, entry)
      return shared.set(slot, entry)
    })
    const refreshAhead = new RefreshAhead<V>(setup, store, (slot) => {
      this.reads.startFlight(slot, slot.args as A, 'refresh')
    })
    const reads = new TwoTierRead<V, A>(setup, store, shared, runner, refreshAhead, context.coordinator)
    this.store = store
    this.shared = shared
    this.runner = runner
    this.refreshAhead = refreshAhead
    this.reads = reads
    this.views = new ScopedViews<V, A>(setup, store, reads, declaration.scoped)
    this.changes = new UpstreamChanges<V, A>(
      setup,
      store,
      shared,
      reads,
      refreshAhead,
      warmArgs,
      () => this.clear(),
      (key) => this.invalidateKey(key),
    )
    this.usesSharedLayer = shared.layer !== undefined
  }

  /**
   * The full key of an entry: `key`, or `key:keyOf(args)` for a keyed cache; a scope's key adds
   * `:~<scope id>` after `key`, so one prefix holds a scope's keys of a cache.
   */
  keyFor(args: A, scope?: Scope): string {
    return this.setup.keyFor(args, scope)
  }

  /**
   * The hot path: the fresh in-memory entry (counting a hit and marking demand), or undefined,
   * counting nothing: follow with `read`. Allocates nothing on a hit of an argument-less cache.
   * With a `scope`: that principal's entry (see `ScopedReads`).
   */
  peek(args: A, scope?: Scope): CacheEntry<V> | undefined {
    if (scope !== undefined) return this.views.peek(args, scope)
    return this.reads.peek(this.keyed ? this.setup.keyFor(args) : this.key)
  }

  /** The full read: memory, then single flight over the shared layer and the loader. */
  read(args: A, scope?: Scope): Promise<CacheRead<V>> {
    const entry = this.peek(args, scope) as StoredEntry<V> | undefined
    if (entry !== undefined) return entry.hitRead
    return scope === undefined ? this.reads.readThrough(args) : this.views.read(args, scope)
  }

  /** What of `counters.entries` and `counters.bytes` is held for scopes (every viewer together). */
  scopedHeld(): { readonly entries: number; readonly bytes: number } {
    return this.store.scopedHeld()
  }

  /** Age of an entry on the cache's clock. */
  ageMs(entry: CacheEntry<V>): number {
    return Math.max(0, this.setup.clock.now() - entry.loadedAt)
  }

  // Upstream changes.

  /**
   * Force-reloads every key held (or the argument-less key, or `warmArgs`, when none is),
   * skipping the shared layer and any backoff; joins a load already in flight.
   */
  reload(): Promise<ReloadResult> {
    return this.changes.reload()
  }

  /**
   * Loads ahead of the first reader (the service starting): the keys `reload` would load, in the
   * background through the single flight, taking the shared layer's value when another instance
   * has a fresh one. A key with a fresh value here, or a load in flight, is left alone. The
   * value is not marked as read: nobody reading it, refresh-ahead leaves it to age.
   */
  warm(): Promise<ReloadResult> {
    return this.changes.warm()
  }

  /**
   * For a change the upstream announced: reloads the key (for a keyed cache without `args`,
   * every key held here) in the background. Readers keep getting the held value (stale once
   * past its TTL) until the new one is stored; then every other instance is told to drop its
   * copy and take the new one from the shared layer. Skips the shared layer read but not the
   * backoff: during a step the reload waits for the step to end. A load already in flight may
   * have asked before the change, so one more follows it. A key with no load in flight that
   * nobody reads (not here within `idleWindowMs`, and no value younger than the TTL in the
   * shared layer) is invalidated instead: an idle dashboard costs the upstream nothing.
   */
  refresh(args?: A): Promise<ReloadResult> {
    return this.changes.refresh(args)
  }

  /**
   * For a change the upstream announced with its content (a push notification): replaces the
   * fresh value held for the key (argument-less: the key) with `update(value)`, as a new entry
   * (its JSON and ETag) as fresh as a load, with no upstream call. The new value goes to the
   * shared layer, then other instances are told to drop their copy. `update` must not change
   * the value it is given (readers hold it); returning that same value confirms it: its age
   * restarts, nothing else changes. `fetchedAt` stays the time of the upstream fetch the value
   * comes from. Returns what happened; anything but `patched`/`confirmed` means the caller
   * should refresh instead:
   * - `unpatchable`: `update` returned undefined (the change needs a load);
   * - `not-fresh`: nothing held, or only an expired value (changes may have been missed);
   * - `loading`: a load is in flight, and its answer may predate the change;
   * - `outdated`: the key is read (within `idleWindowMs`) and its value was fetched
   *   `refetchAfterMs` ago or more: what the patches do not cover wants a load.
   */
  patch(
    update: (value: V) => V | undefined,
    args?: A,
    options: { refetchAfterMs?: number } = {},
  ): Promise<PatchOutcome> {
    return this.changes.patch(update, args, options.refetchAfterMs)
  }

  // Clears.

  /** Drops every key here, in the shared layer and (through the bus) on every instance. */
  async clear(): Promise<boolean> {
    this.store.dropAll()
    const [, cleared] = await Promise.all([
      this.setup.context.publish({ type: 'clear', name: this.name }),
      this.shared.clear(),
    ])
    return cleared
  }

  /** @internal drops the cache's keys from the shared layer; false without one or on trouble */
  clearShared(): Promise<boolean> {
    return this.shared.clear()
  }

  /** Drops one key here, in the shared layer and on every instance. */
  invalidate(args: A): Promise<boolean> {
    return this.invalidateKey(this.keyFor(args))
  }

  private async invalidateKey(key: string): Promise<boolean> {
    this.store.dropKey(key)
    const [, deleted] = await Promise.all([
      this.setup.context.publish({ type: 'invalidate', name: this.name, key }),
      this.shared.delete(key),
    ])
    return deleted === true
  }

  /** @internal a clear received from the bus, or the local part of `clear` */
  dropAll(): void {
    this.store.dropAll()
  }

  /** @internal drops one scope's keys and views here (the local part of `CacheRegistry.clearScope`) */
  dropScope(scopeId: string): void {
    this.store.dropScope(scopeId)
  }

  /** @internal drops one scope's keys from the shared layer; true when there were none to share */
  clearScopeShared(scopeId: string): Promise<boolean> {
    return this.shared.clearScope(scopeId)
  }

  /** @internal */
  dropKey(key: string): void {
    this.store.dropKey(key)
  }

  /** @internal stops timers and aborts loads in flight; values stay readable */
  close(): void {
    this.store.closed = true
    this.refreshAhead.stop()
    this.runner.abandonAll()
  }

  // Stats.

  /** The durations (ms) of the last 1024 loader calls, for percentiles across instances. */
  loadTimesMs(): number[] {
    return this.runner.loadTimes.values()
  }

  /** Zeroes the history counters and load times; entries and bytes are state and stay. */
  resetStats(): void {
    const { entries, bytes } = this.counters
    Object.assign(this.counters, new CacheCounters(), { entries, bytes })
    this.runner.loadTimes.clear()
  }

  /** Age of the youngest value held, null when nothing is held. */
  youngestAgeMs(): number | null {
    return this.store.youngestAgeMs()
  }

  /** The freshest value held for `args` (fresh or kept for stale serving), counting nothing. */
  held(args: A): V | undefined {
    return this.store.keptEntry(this.keyFor(args), this.setup.clock.now())?.value
  }

  stats(): CacheStats {
    const c = this.counters
    const requests = c.hits + c.misses + c.coalesced
    return {
      ...c,
      name: this.name,
      key: this.key,
      ttlMs: this.ttlMs,
      maxStaleMs: this.policy.maxStaleMs,
      refreshAhead: this.policy.refreshAhead,
      shared: this.usesSharedLayer,
      requests,
      hitRate: requests === 0 ? 0 : c.hits / requests,
      loadMs: percentiles(this.runner.loadTimes.values()),
      lastFetchedAt: this.runner.lastFetchedAt,
      lastError: this.runner.lastError,
      ageMs: this.store.youngestAgeMs(),
    }
  }
}
