import type { InvalidationMessage } from './bus.js'
import type { Clock, TimerHandle } from './clock.js'
import { messageOf, serialize, Serialized, type CacheEntry, type CacheRead } from './entry.js'
import { CacheClosedError, LoaderTimeoutError } from './errors.js'
import type { FlightCoordinator } from './flight.js'
import { hitLoggerOf, type CacheLogger } from './logger.js'
import type { MemoryLayer, MemoryLru } from './memory.js'
import {
  REFRESH_JITTER,
  resolveKeyBounds,
  resolvePolicy,
  type CacheDeclaration,
  type CachePolicy,
  type KeyBounds,
} from './policy.js'
import { SCOPE_MARK, type Scope, type ScopedReads, type ScopeTable } from './scope.js'
import type { SharedBound, SharedHit, SharedLayer } from './shared.js'
import { Flight, KeySlot, StoredEntry, type FlightResult, type SlotOwner } from './slot.js'
import { CacheCounters, LoadTimeRing, percentiles, type CacheStats } from './stats.js'

/** What a cache gets from its registry. */
export interface CacheContext {
  readonly clock: Clock
  readonly memory: MemoryLayer
  readonly shared: SharedLayer | undefined
  readonly coordinator: FlightCoordinator
  readonly random: () => number
  readonly logger: CacheLogger | undefined
  readonly defaults: Partial<CachePolicy> | undefined
  readonly publish: (message: InvalidationMessage) => Promise<void>
  readonly scopes: ScopeTable
  /** Told of every loader call when it ends: its duration (ms) and whether it succeeded. */
  readonly onLoad: ((cache: string, ms: number, ok: boolean) => void) | undefined
}

export interface ReloadResult {
  readonly name: string
  readonly ok: boolean
  /** Keys reloaded. */
  readonly keys: number
  /** The first failure, when not ok. */
  readonly error?: string
}

type LoadMode = 'read' | 'refresh' | 'reload'

/** What `Cache.patch` did; see there. */
export type PatchOutcome = 'patched' | 'confirmed' | 'unpatchable' | 'not-fresh' | 'loading' | 'outdated'

/**
 * One declared cache. The read path, top to bottom: memory (`peek`) → single flight per key →
 * shared layer → loader (through the cluster's flight coordinator) → on failure the last good
 * value, kept `maxStaleMs` past its TTL.
 */
export class Cache<V, A = void> implements SlotOwner {
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
  readonly counters = new CacheCounters()

  private readonly clock: Clock
  private readonly lru: MemoryLru
  private readonly memory: MemoryLayer
  private readonly shared: SharedLayer | undefined
  private readonly context: CacheContext
  private readonly keyOf: ((args: A) => string) | undefined
  private readonly loader: CacheDeclaration<V, A>['load']
  private readonly warmArgs: readonly A[]
  /** The keys of `warmArgs`: they keep the full stale window in the shared layer, variants a shorter one. */
  private readonly baseKeys: ReadonlySet<string>
  private readonly sharedBound: SharedBound | undefined
  /** Entries and bytes of scopes (in `counters` too): each scope has its own quota, outside the bounds. */
  private scopedEntries = 0
  private scopedBytes = 0
  private readonly refreshAfterMs: number
  private readonly keepMs: number
  private readonly logger: CacheLogger | undefined
  private readonly hitLogger: CacheLogger | undefined
  private readonly slots = new Map<string, KeySlot<V>>()
  private readonly scoped: ScopedReads<V> | undefined
  /** Slots of scopes' views (memory only, never loaded, refreshed or reloaded). */
  private readonly viewSlots = new Map<string, KeySlot<V>>()
  private readonly loadTimes = new LoadTimeRing()
  /** Loader calls in flight, each with the function that abandons it. */
  private readonly activeLoads = new Set<(error: Error) => void>()
  private lastFetchedAt: number | null = null
  private lastError: string | null = null
  private closed = false

  constructor(declaration: CacheDeclaration<V, A>, context: CacheContext) {
    this.policy = resolvePolicy(declaration, context.defaults)
    this.name = declaration.name
    this.key = declaration.key
    this.ttlMs = declaration.ttlMs
    this.keyed = declaration.keyOf !== undefined
    this.keyOf = declaration.keyOf
    this.loader = declaration.load
    this.warmArgs = declaration.warmArgs ?? []
    this.scoped = declaration.scoped
    this.scopedReads = declaration.scoped?.kind
    this.bounds = resolveKeyBounds(declaration, this.policy)
    this.baseKeys = new Set(this.warmArgs.map((args) => this.keyFor(args)))
    this.sharedBound = this.bounds && {
      group: `${this.key}:`,
      maxKeys: this.bounds.maxKeys,
      maxBytes: this.bounds.maxBytes,
    }
    this.refreshAfterMs = this.policy.refreshAhead ? this.policy.refreshAheadAt * this.ttlMs : Infinity
    this.keepMs = this.ttlMs + this.policy.maxStaleMs
    this.context = context
    this.clock = context.clock
    this.memory = context.memory
    this.lru = context.memory.lru
    this.shared = this.policy.shared ? context.shared : undefined
    this.usesSharedLayer = this.shared !== undefined
    this.logger = context.logger
    this.hitLogger = hitLoggerOf(context.logger)
  }

  /**
   * The full key of an entry: `key`, or `key:keyOf(args)` for a keyed cache; a scope's key adds
   * `:~<scope id>` after `key`, so one prefix holds a scope's keys of a cache.
   */
  keyFor(args: A, scope?: Scope): string {
    const base = scope === undefined ? this.key : `${this.key}:${SCOPE_MARK}${scope.id}`
    return this.keyOf === undefined ? base : `${base}:${this.keyOf(args)}`
  }

  /**
   * The hot path: the fresh in-memory entry (counting a hit and marking demand), or undefined,
   * counting nothing: follow with `read`. Allocates nothing on a hit of an argument-less cache.
   * With a `scope`: that principal's entry (see `ScopedReads`).
   */
  peek(args: A, scope?: Scope): CacheEntry<V> | undefined {
    if (scope !== undefined) return this.peekScoped(args, scope)
    return this.peekKey(this.keyOf === undefined ? this.key : this.keyFor(args))
  }

  private peekKey(key: string): StoredEntry<V> | undefined {
    const entry = this.lru.get(key) as StoredEntry<V> | undefined
    if (entry === undefined) return undefined
    const now = this.clock.now()
    const age = now - entry.loadedAt
    if (age >= this.ttlMs) return undefined
    this.counters.hits++
    entry.slot.lastReadAt = now
    if (age >= this.refreshAfterMs) this.refreshOnRead(entry.slot, now)
    if (this.hitLogger !== undefined)
      this.hitLogger.debug({ cache: this.name, key: entry.slot.key, ageMs: age }, 'cache hit')
    return entry
  }

  /** The full read: memory, then single flight over the shared layer and the loader. */
  read(args: A, scope?: Scope): Promise<CacheRead<V>> {
    const entry = this.peek(args, scope) as StoredEntry<V> | undefined
    if (entry !== undefined) return entry.hitRead
    if (scope === undefined || this.scoped?.kind === 'own') return this.readThrough(args, scope)
    return this.readView(args, scope)
  }

  // Scoped reads: a view derived from the unscoped entry, or the scope's own key.

  private peekScoped(args: A, scope: Scope): StoredEntry<V> | undefined {
    const scoped = this.scoped ?? this.requireScoped()
    if (scoped.kind === 'own') return this.peekKey(this.keyFor(args, scope))
    const source = this.peekKey(this.keyOf === undefined ? this.key : this.keyFor(args))
    if (source === undefined) return undefined
    // The hot path of a viewer: the view held for this scope, if derived from this very entry.
    const held = source.slot.views?.[scope.index]
    return held !== undefined && held.slot.viewOf === source && held.slot.scope === scope
      ? held
      : this.viewOf(source, scope, scoped.view)
  }

  private async readView(args: A, scope: Scope): Promise<CacheRead<V>> {
    const scoped = this.requireScoped()
    if (scoped.kind !== 'view') throw new Error(`cache ${this.name}: not a cache of views`)
    const read = await this.readThrough(args)
    return { ...read, entry: this.viewOf(read.entry as StoredEntry<V>, scope, scoped.view) }
  }

  /** The scope's view of `source`, derived and held on first use. */
  private viewOf(
    source: StoredEntry<V>,
    scope: Scope,
    view: (value: V, principal: Scope['principal']) => V,
  ): StoredEntry<V> {
    const held = source.slot.views?.[scope.index]
    if (held !== undefined && held.slot.viewOf === source && held.slot.scope === scope) return held
    const key = this.keyFor(source.slot.args as A, scope)
    let slot = this.viewSlots.get(key)
    if (slot === undefined || slot.retired) {
      slot = new KeySlot<V>(key, source.slot.args, this, scope)
      this.viewSlots.set(key, slot)
    }
    const value = view(source.value, scope.principal)
    const entry = new StoredEntry(
      value,
      serialize(value, `cache ${this.name} (view of ${source.slot.key})`),
      source.loadedAt,
      source.fetchedAt,
      slot,
    )
    scope.derivations++
    slot.viewOf = source
    if (this.store(slot, entry)) (source.slot.views ??= [])[scope.index] = entry
    return entry
  }

  private requireScoped(): ScopedReads<V> {
    if (this.scoped === undefined)
      throw new Error(`cache ${this.name} has no scoped reads: declare \`scoped\` to read it for a principal`)
    return this.scoped
  }

  /** What of `counters.entries` and `counters.bytes` is held for scopes (every viewer together). */
  scopedHeld(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.scopedEntries, bytes: this.scopedBytes }
  }

  /** Age of an entry on the cache's clock. */
  ageMs(entry: CacheEntry<V>): number {
    return Math.max(0, this.clock.now() - entry.loadedAt)
  }

  private async readThrough(args: A, scope?: Scope): Promise<CacheRead<V>> {
    const key = this.keyFor(args, scope)
    const now = this.clock.now()
    const slot = this.slotFor(key, args, scope)
    slot.lastReadAt = now
    if (slot.flight !== undefined) {
      const result = await this.waitFor(slot.flight, slot, now)
      if ('outcome' in result) return result
      this.counters.coalesced++
      return this.answer(result, 'coalesced')
    }
    if (now < slot.backoffUntil) {
      this.counters.misses++
      const kept = this.keptEntry(key, now)
      if (kept === undefined) throw slot.lastError
      return this.serveStale(kept, slot.lastError)
    }
    this.logger?.info({ cache: this.name, key }, 'cache miss')
    const result = await this.waitFor(this.startFlight(slot, args, 'read'), slot, now)
    if ('outcome' in result) return result
    if (result.source === 'shared') {
      this.counters.hits++
      return { entry: result.entry, outcome: 'hit' }
    }
    this.counters.misses++
    this.counters.upstreamReads++
    return this.answer(result, 'miss')
  }

  /**
   * The soft timeout: with no older value held, the flight's result (up to the hard timeout,
   * `loadTimeoutMs`). With one held (within `maxStaleMs`), the result only if it comes within
   * `softTimeoutMs`; else the value held then, marked stale with its true age, while the load
   * goes on and lands for the next reader. (A clear meanwhile leaves nothing to serve: the
   * reader waits for the load after all.)
   */
  private async waitFor(flight: Flight<V>, slot: KeySlot<V>, readAt: number): Promise<FlightResult<V> | CacheRead<V>> {
    if (this.keptEntry(slot.key, readAt) === undefined) return flight.promise
    let timer: TimerHandle | undefined
    const softTimeout = new Promise<undefined>((resolve) => {
      timer = this.clock.setTimer(() => resolve(undefined), this.policy.softTimeoutMs)
    })
    const result = await Promise.race([flight.promise, softTimeout])
    this.clock.clearTimer(timer!)
    if (result !== undefined) return result
    const now = this.clock.now()
    const held = slot.retired ? undefined : this.keptEntry(slot.key, now)
    if (held === undefined) return flight.promise
    this.counters.misses++
    this.counters.staleServes++
    this.hitLogger?.debug(
      { cache: this.name, key: slot.key, ageMs: now - held.loadedAt, waitedMs: now - readAt },
      'cache served stale while loading',
    )
    return { entry: held, outcome: 'stale' }
  }

  private answer(result: FlightResult<V>, outcome: 'miss' | 'coalesced'): CacheRead<V> {
    if (result.source === 'failed') throw result.error
    if (result.source === 'stale') {
      if (outcome === 'coalesced') this.counters.staleCoalesced++
      return this.serveStale(result.entry, result.error)
    }
    return { entry: result.entry, outcome }
  }

  private serveStale(entry: StoredEntry<V>, error: unknown): CacheRead<V> {
    this.counters.staleServes++
    this.logger?.info(
      { cache: this.name, key: entry.slot.key, ageMs: this.ageMs(entry), error: messageOf(error) },
      'cache served stale',
    )
    return { entry, outcome: 'stale', error }
  }

  private startFlight(slot: KeySlot<V>, args: A, mode: LoadMode): Flight<V> {
    const flight = new Flight<V>()
    slot.flight = flight
    flight.promise = this.runFlight(slot, flight, args, mode)
    return flight
  }

  private async runFlight(slot: KeySlot<V>, flight: Flight<V>, args: A, mode: LoadMode): Promise<FlightResult<V>> {
    let result: FlightResult<V>
    let staleShared: SharedHit | undefined
    try {
      const found = mode === 'reload' || this.shared === undefined ? undefined : await this.sharedGet(slot.key)
      const freshFor = mode === 'refresh' ? this.refreshAfterMs : this.ttlMs
      const adopted = found !== undefined && found.ageMs < freshFor ? this.adopt(slot, found) : undefined
      if (adopted !== undefined) {
        result = { source: 'shared', entry: adopted }
      } else {
        if (found !== undefined && found.ageMs < this.keepMs) staleShared = found
        result = { source: 'loader', entry: await this.loadOnce(slot, args) }
      }
    } catch (error) {
      const kept = this.lastGood(slot, staleShared)
      result =
        kept !== undefined ? { source: 'stale', entry: kept, error } : { source: 'failed', entry: undefined, error }
    }
    if (slot.flight === flight) slot.flight = undefined
    this.schedule(slot, this.lru.peek(slot.key) as StoredEntry<V> | undefined)
    return result
  }

  private async loadOnce(slot: KeySlot<V>, args: A): Promise<StoredEntry<V>> {
    // A cache that keeps its values to itself cannot take another instance's load.
    if (this.shared === undefined) return this.load(slot, args)
    const loaded = await this.context.coordinator.run(slot.key, () => this.load(slot, args))
    if (loaded !== undefined) return loaded
    // Another instance ran the load; its value is in the shared layer unless that load failed.
    const found = await this.sharedGet(slot.key)
    return (
      (found !== undefined && found.ageMs < this.ttlMs ? this.adopt(slot, found) : undefined) ?? this.load(slot, args)
    )
  }

  private async load(slot: KeySlot<V>, args: A): Promise<StoredEntry<V>> {
    const started = this.clock.now()
    this.counters.loads++
    let entry: StoredEntry<V>
    try {
      const value = await this.callLoader(args, slot.key)
      entry =
        value instanceof Serialized
          ? StoredEntry.fromSerialized(value, this.clock.now(), this.clock.wallNow(), slot)
          : new StoredEntry(
              value,
              serialize(value, `cache ${this.name} (${slot.key})`),
              this.clock.now(),
              this.clock.wallNow(),
              slot,
            )
    } catch (error) {
      this.loadEnded(started, false)
      this.loadFailed(slot, error)
      throw error
    }
    this.loadEnded(started, true)
    slot.failures = 0
    slot.backoffUntil = -Infinity
    slot.lastError = undefined
    this.lastFetchedAt = entry.fetchedAt
    this.lastError = null
    if (!slot.retired) {
      this.store(slot, entry)
      await this.sharedSet(slot, entry)
    }
    return entry
  }

  private loadEnded(started: number, ok: boolean): void {
    const ms = this.clock.now() - started
    this.loadTimes.record(ms)
    this.context.onLoad?.(this.name, ms, ok)
  }

  /** Calls the loader; a call that outlives `loadTimeoutMs` (or the registry) fails and is aborted. */
  private callLoader(args: A, key: string): Promise<V | Serialized<V>> {
    const controller = new AbortController()
    return new Promise<V | Serialized<V>>((resolve, reject) => {
      const abandon = (error: Error): void => {
        settled()
        controller.abort(error)
        reject(error)
      }
      const settled = (): void => {
        this.clock.clearTimer(timer)
        this.activeLoads.delete(abandon)
      }
      const timeoutMs = this.policy.loadTimeoutMs
      const timer = this.clock.setTimer(() => abandon(new LoaderTimeoutError(this.name, key, timeoutMs)), timeoutMs)
      this.activeLoads.add(abandon)
      let pending: Promise<V | Serialized<V>>
      try {
        pending = Promise.resolve(this.loader(args, controller.signal))
      } catch (error) {
        pending = Promise.reject(error)
      }
      pending.then(
        (value) => {
          settled()
          resolve(value)
        },
        (error: unknown) => {
          settled()
          reject(error)
        },
      )
    })
  }

  private loadFailed(slot: KeySlot<V>, error: unknown): void {
    this.counters.loadErrors++
    slot.failures++
    const stepMs = Math.min(this.policy.backoffBaseMs * 2 ** (slot.failures - 1), this.policy.backoffMaxMs)
    slot.backoffUntil = this.clock.now() + stepMs
    slot.lastError = error
    this.lastError = messageOf(error)
    this.logger?.info(
      { cache: this.name, key: slot.key, error: this.lastError, failures: slot.failures, retryInMs: stepMs },
      'cache loader failed',
    )
  }

  /** A value from the shared layer, aged as the shared layer says; undefined if its JSON is corrupt. */
  private adopt(slot: KeySlot<V>, found: SharedHit): StoredEntry<V> | undefined {
    let value: V
    try {
      value = JSON.parse(found.json) as V
    } catch {
      return undefined
    }
    const entry = new StoredEntry(value, found.json, this.clock.now() - found.ageMs, found.fetchedAt, slot)
    this.counters.sharedHits++
    if (!slot.retired) this.store(slot, entry)
    return entry
  }

  /** The younger of the kept memory value and the shared layer's stale value, if any. */
  private lastGood(slot: KeySlot<V>, staleShared: SharedHit | undefined): StoredEntry<V> | undefined {
    const now = this.clock.now()
    const kept = slot.retired ? undefined : this.keptEntry(slot.key, now)
    if (staleShared === undefined || (kept !== undefined && now - kept.loadedAt <= staleShared.ageMs)) return kept
    return this.adopt(slot, staleShared) ?? kept
  }

  private async sharedGet(key: string): Promise<SharedHit | undefined> {
    if (this.shared === undefined) return undefined
    try {
      return await this.shared.get(key)
    } catch {
      return undefined
    }
  }

  /** Writes a value to the shared layer (a query variant of a keyed cache for a shorter stale window); never throws. */
  private async sharedSet(slot: KeySlot<V>, entry: StoredEntry<V>): Promise<void> {
    if (this.shared === undefined) return
    const staleMs =
      this.bounds === undefined || this.baseKeys.has(slot.key) ? this.policy.maxStaleMs : this.bounds.variantMaxStaleMs
    await this.shared
      .set(slot.key, { json: entry.json, fetchedAt: entry.fetchedAt }, this.ttlMs, staleMs, this.sharedBoundOf(slot))
      .catch(() => undefined)
  }

  /** Holds `entry` in memory (within the scope's quota for a scoped key); false when it is too large to hold. */
  private store(slot: KeySlot<V>, entry: StoredEntry<V>): boolean {
    const scope = slot.scope
    if (!this.memory.fits(entry.bytes) || (scope !== undefined && !scope.fits(entry.bytes))) {
      this.counters.oversized++
      this.lru.delete(slot.key)
      slot.refreshAt = Infinity
      this.logger?.info(
        {
          cache: this.name,
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
    this.counters.entries++
    this.counters.bytes += entry.bytes
    // A scope is held within its own quota; the cache's bounds count the unscoped keys.
    if (scope !== undefined) {
      scope.added(slot.key, entry.bytes)
      this.scopedEntries++
      this.scopedBytes += entry.bytes
    } else if (this.bounds !== undefined) {
      this.enforceBounds(this.bounds, slot.key)
    }
    slot.refreshAt =
      this.refreshAfterMs === Infinity
        ? Infinity
        : entry.loadedAt + this.refreshAfterMs - this.context.random() * REFRESH_JITTER * this.ttlMs
    return true
  }

  /** A scope's keys are bounded apart in the shared layer too: one viewer's pages never push out another's. */
  private sharedBoundOf(slot: KeySlot<V>): SharedBound | undefined {
    const bound = this.sharedBound
    if (bound === undefined || slot.scope === undefined) return bound
    return { ...bound, group: `${this.key}:${SCOPE_MARK}${slot.scope.id}:` }
  }

  /** Drops this cache's least recently read keys (never `keep`) until it is within its bounds. */
  private enforceBounds(bounds: KeyBounds, keep: string): void {
    while (
      this.counters.entries - this.scopedEntries > bounds.maxKeys ||
      this.counters.bytes - this.scopedBytes > bounds.maxBytes
    ) {
      let victim: KeySlot<V> | undefined
      for (const slot of this.slots.values()) {
        if (slot.key === keep || slot.scope !== undefined || this.lru.peek(slot.key) === undefined) continue
        if (victim === undefined || slot.lastReadAt < victim.lastReadAt) victim = slot
      }
      const dropped = victim ?? this.slots.get(keep)
      if (dropped === undefined) return
      this.counters.evictions++
      this.lru.delete(dropped.key)
      dropped.refreshAt = Infinity
      this.schedule(dropped, undefined)
      if (dropped.key === keep) return
    }
  }

  /** @internal memory layer callback */
  onRemoved(entry: StoredEntry<unknown>, evicted: boolean): void {
    this.counters.entries--
    this.counters.bytes -= entry.bytes
    const slot = entry.slot as KeySlot<V>
    if (slot.scope !== undefined) {
      slot.scope.removed(slot.key, entry.bytes)
      this.scopedEntries--
      this.scopedBytes -= entry.bytes
      const views = slot.viewOf?.slot.views
      if (views !== undefined && views[slot.scope.index] === entry) views[slot.scope.index] = undefined
    }
    if (!evicted) return
    this.counters.evictions++
    if (this.slots.get(slot.key) === slot) {
      slot.refreshAt = Infinity
      this.schedule(slot, undefined)
    }
  }

  /** The held value (fresh or expired) while it may still be served stale. */
  private keptEntry(key: string, now: number): StoredEntry<V> | undefined {
    const entry = this.lru.peek(key) as StoredEntry<V> | undefined
    return entry !== undefined && now - entry.loadedAt < this.keepMs ? entry : undefined
  }

  private slotFor(key: string, args: A, scope?: Scope): KeySlot<V> {
    let slot = this.slots.get(key)
    if (slot === undefined) {
      slot = new KeySlot<V>(key, args, this, scope)
      this.slots.set(key, slot)
    }
    return slot
  }

  // Refresh-ahead and expiry. One timer per key wakes at the next thing due: the refresh point
  // (or the end of backoff when a refresh is due), else the end of the stale window; a key with
  // nothing held but a failure history is forgotten once its backoff is long over.

  private schedule(slot: KeySlot<V>, entry: StoredEntry<V> | undefined): void {
    if (slot.timer !== undefined) {
      this.clock.clearTimer(slot.timer)
      slot.timer = undefined
    }
    if (slot.retired || this.closed) return
    const now = this.clock.now()
    let at: number
    if (entry !== undefined) {
      const dropAt = entry.loadedAt + this.keepMs
      at =
        slot.flight === undefined && slot.refreshAt < dropAt
          ? Math.min(dropAt, Math.max(slot.refreshAt, slot.backoffUntil))
          : dropAt
    } else if (slot.flight !== undefined) {
      return
    } else if (slot.failures > 0 && now < slot.backoffUntil + this.policy.backoffMaxMs) {
      at = slot.backoffUntil + this.policy.backoffMaxMs
    } else {
      this.slots.delete(slot.key)
      return
    }
    slot.timer = this.clock.setTimer(() => this.onTimer(slot), at - now)
  }

  private onTimer(slot: KeySlot<V>): void {
    slot.timer = undefined
    if (slot.retired || this.closed) return
    const now = this.clock.now()
    let entry = this.lru.peek(slot.key) as StoredEntry<V> | undefined
    if (entry !== undefined && now - entry.loadedAt >= this.keepMs) {
      this.lru.delete(slot.key)
      entry = undefined
    }
    if (entry !== undefined && slot.flight === undefined && now >= slot.refreshAt && now >= slot.backoffUntil) {
      if (now - slot.lastReadAt <= this.policy.idleWindowMs) {
        this.startRefresh(slot)
        return
      }
      // Idle: let the value age out; a read past the refresh point revives refreshing.
      slot.refreshAt = Infinity
    }
    this.schedule(slot, entry)
  }

  /** A read past the refresh point of a key whose timer found it idle refreshes it now. */
  private refreshOnRead(slot: KeySlot<V>, now: number): void {
    if (
      slot.refreshAt === Infinity &&
      slot.flight === undefined &&
      now >= slot.backoffUntil &&
      !slot.retired &&
      !this.closed
    ) {
      this.startRefresh(slot)
    }
  }

  private startRefresh(slot: KeySlot<V>): void {
    this.counters.refreshes++
    this.logger?.info({ cache: this.name, key: slot.key }, 'cache refresh')
    this.startFlight(slot, slot.args as A, 'refresh')
  }

  // Clears, reloads, stats.

  /**
   * Force-reloads every key held (or the argument-less key, or `warmArgs`, when none is),
   * skipping the shared layer and any backoff; joins a load already in flight.
   */
  async reload(): Promise<ReloadResult> {
    const targets = this.heldOrDeclared()
    return this.outcomeOf(targets, await Promise.all(targets.map(({ key, args }) => this.reloadKey(key, args))))
  }

  /**
   * Loads ahead of the first reader (the service starting): the keys `reload` would load, in the
   * background through the single flight, taking the shared layer's value when another instance
   * has a fresh one. A key with a fresh value here, or a load in flight, is left alone. The
   * value is not marked as read: nobody reading it, refresh-ahead leaves it to age.
   */
  async warm(): Promise<ReloadResult> {
    const now = this.clock.now()
    const targets = this.heldOrDeclared().filter(({ key }) => {
      const held = this.lru.peek(key) as StoredEntry<V> | undefined
      return held === undefined || now - held.loadedAt >= this.ttlMs
    })
    const results = await Promise.all(
      targets.map(({ key, args }) => {
        const slot = this.slotFor(key, args)
        slot.warmedAt = now
        if (slot.flight !== undefined) return slot.flight.promise
        this.counters.refreshes++
        this.counters.warmRefreshes++
        this.logger?.info({ cache: this.name, key }, 'cache warm-up')
        return this.startFlight(slot, args, 'refresh').promise
      }),
    )
    return this.outcomeOf(targets, results)
  }

  private heldOrDeclared(): Array<{ key: string; args: A }> {
    const targets: Array<{ key: string; args: A }> = []
    for (const slot of this.slots.values()) {
      if (this.lru.peek(slot.key) !== undefined) targets.push({ key: slot.key, args: slot.args as A })
    }
    if (targets.length === 0) {
      const argsList = this.keyed ? this.warmArgs : [undefined as A]
      for (const args of argsList) targets.push({ key: this.keyFor(args), args })
    }
    return targets
  }

  private outcomeOf(targets: ReadonlyArray<unknown>, results: ReadonlyArray<FlightResult<V>>): ReloadResult {
    const failure = results.find((result) => result.source === 'stale' || result.source === 'failed')
    return failure === undefined
      ? { name: this.name, ok: true, keys: targets.length }
      : { name: this.name, ok: false, keys: targets.length, error: messageOf(failure.error) }
  }

  private reloadKey(key: string, args: A): Promise<FlightResult<V>> {
    const slot = this.slotFor(key, args)
    if (slot.flight !== undefined) return slot.flight.promise
    this.counters.refreshes++
    this.counters.warmRefreshes++
    this.logger?.info({ cache: this.name, key }, 'cache reload')
    return this.startFlight(slot, args, 'reload').promise
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
  async refresh(args?: A): Promise<ReloadResult> {
    let targets: Array<{ key: string; args: A }>
    if (this.keyed && args === undefined) {
      targets = []
      for (const slot of this.slots.values()) {
        if (this.lru.peek(slot.key) !== undefined) targets.push({ key: slot.key, args: slot.args as A })
      }
      // Keys only other instances hold cannot be listed: drop them all, as a clear does.
      if (targets.length === 0) return { name: this.name, ok: await this.clear(), keys: 0 }
    } else {
      targets = [{ key: this.keyFor(args as A), args: args as A }]
    }
    const errors = (await Promise.all(targets.map(({ key, args }) => this.refreshKey(key, args)))).filter(
      (e) => e !== undefined,
    )
    return errors.length === 0
      ? { name: this.name, ok: true, keys: targets.length }
      : { name: this.name, ok: false, keys: targets.length, error: messageOf(errors[0]!.error) }
  }

  /** Resolves undefined, or the failure (a failed load, or the backoff step it waits for). */
  private async refreshKey(key: string, args: A): Promise<{ error: unknown } | undefined> {
    const now = this.clock.now()
    const slot = this.slots.get(key)
    // A load in flight has a reader or a refresh behind it: let it store its value, then reload.
    // A value warmed within the idle window counts as read: dropping it would undo the warm-up.
    const awaited = slot !== undefined && now - Math.max(slot.lastReadAt, slot.warmedAt) <= this.policy.idleWindowMs
    const readHere =
      slot !== undefined && (slot.flight !== undefined || (awaited && this.keptEntry(key, now) !== undefined))
    if (!readHere && !(await this.readElsewhere(key))) {
      await this.invalidateKey(key)
      return undefined
    }
    return this.refreshHeld(key, args)
  }

  private async readElsewhere(key: string): Promise<boolean> {
    const found = await this.sharedGet(key)
    return found !== undefined && found.ageMs < this.ttlMs
  }

  private async refreshHeld(key: string, args: A): Promise<{ error: unknown } | undefined> {
    if (this.closed) return undefined
    const slot = this.slotFor(key, args)
    if (slot.flight !== undefined) {
      slot.followUp ??= slot.flight.promise.then(() => {
        slot.followUp = undefined
        return this.refreshHeld(key, args)
      })
      return slot.followUp
    }
    if (this.clock.now() < slot.backoffUntil) {
      // Due now: the key's timer reloads it when the step ends, if it is still read.
      slot.refreshAt = this.clock.now()
      this.schedule(slot, this.lru.peek(key) as StoredEntry<V> | undefined)
      return { error: slot.lastError }
    }
    this.counters.refreshes++
    this.counters.pushRefreshes++
    this.logger?.info({ cache: this.name, key }, 'cache refresh (upstream change)')
    const result = await this.startFlight(slot, args, 'reload').promise
    if (result.source === 'stale' || result.source === 'failed') return { error: result.error }
    if (!slot.retired) await this.context.publish({ type: 'invalidate', name: this.name, key })
    return undefined
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
    const key = this.keyFor(args as A)
    const slot = this.slots.get(key)
    const held = this.lru.peek(key) as StoredEntry<V> | undefined
    const now = this.clock.now()
    if (this.closed || slot === undefined || held === undefined || now - held.loadedAt >= this.ttlMs)
      return Promise.resolve('not-fresh')
    if (slot.flight !== undefined) return Promise.resolve('loading')
    const inDemand = now - slot.lastReadAt <= this.policy.idleWindowMs
    if (
      inDemand &&
      options.refetchAfterMs !== undefined &&
      this.clock.wallNow() - held.fetchedAt >= options.refetchAfterMs
    ) {
      return Promise.resolve('outdated')
    }
    const value = update(held.value)
    if (value === undefined) return Promise.resolve('unpatchable')
    const confirmed = value === held.value
    const json = confirmed ? held.json : serialize(value, `cache ${this.name} (${key}): patch`)
    const entry = confirmed
      ? new StoredEntry(value, json, now, held.fetchedAt, slot, held.etag, held.bytes)
      : new StoredEntry(value, json, now, held.fetchedAt, slot)
    this.store(slot, entry)
    this.schedule(slot, entry)
    // Sent now, before any clear that follows can send its delete: Redis keeps the order.
    const written = this.sharedSet(slot, entry)
    const outcome: PatchOutcome = confirmed ? 'confirmed' : 'patched'
    if (confirmed) return written.then(() => outcome)
    return written.then(async () => {
      if (!slot.retired) await this.context.publish({ type: 'invalidate', name: this.name, key })
      return outcome
    })
  }

  /** Drops every key here, in the shared layer and (through the bus) on every instance. */
  async clear(): Promise<boolean> {
    this.dropAll()
    const [, cleared] = await Promise.all([
      this.context.publish({ type: 'clear', name: this.name }),
      this.clearShared(),
    ])
    return cleared
  }

  /** @internal drops the cache's keys from the shared layer; false without one or on trouble */
  async clearShared(): Promise<boolean> {
    if (this.shared === undefined) return false
    const [deleted, cleared] = await Promise.all([
      this.shared.delete([this.key]).catch(() => false),
      this.keyed ? this.shared.clear(`${this.key}:`).catch(() => false) : true,
    ])
    return deleted && cleared
  }

  /** Drops one key here, in the shared layer and on every instance. */
  invalidate(args: A): Promise<boolean> {
    return this.invalidateKey(this.keyFor(args))
  }

  private async invalidateKey(key: string): Promise<boolean> {
    this.dropKey(key)
    const [, deleted] = await Promise.all([
      this.context.publish({ type: 'invalidate', name: this.name, key }),
      this.shared?.delete([key]).catch(() => false),
    ])
    return deleted === true
  }

  /** @internal a clear received from the bus, or the local part of `clear` */
  dropAll(): void {
    for (const slot of this.slots.values()) this.retire(slot)
    for (const slot of this.viewSlots.values()) this.retire(slot)
    this.slots.clear()
    this.viewSlots.clear()
  }

  /** @internal drops one scope's keys and views here (the local part of `CacheRegistry.clearScope`) */
  dropScope(scopeId: string): void {
    for (const slots of [this.slots, this.viewSlots]) {
      for (const slot of slots.values()) {
        if (slot.scope?.id !== scopeId) continue
        this.retire(slot)
        slots.delete(slot.key)
      }
    }
  }

  /** @internal drops one scope's keys from the shared layer; true when there were none to share */
  async clearScopeShared(scopeId: string): Promise<boolean> {
    if (this.shared === undefined || this.scoped?.kind !== 'own') return true
    const base = `${this.key}:${SCOPE_MARK}${scopeId}`
    return this.keyed ? this.shared.clear(`${base}:`).catch(() => false) : this.shared.delete([base]).catch(() => false)
  }

  /** @internal */
  dropKey(key: string): void {
    const slot = this.slots.get(key)
    if (slot === undefined) return
    this.retire(slot)
    this.slots.delete(key)
  }

  private retire(slot: KeySlot<V>): void {
    slot.retired = true
    if (slot.timer !== undefined) this.clock.clearTimer(slot.timer)
    slot.timer = undefined
    this.lru.delete(slot.key)
  }

  /** @internal stops timers and aborts loads in flight; values stay readable */
  close(): void {
    this.closed = true
    for (const slot of this.slots.values()) {
      if (slot.timer !== undefined) this.clock.clearTimer(slot.timer)
      slot.timer = undefined
    }
    for (const abandon of [...this.activeLoads]) abandon(new CacheClosedError(this.name))
  }

  /** The durations (ms) of the last 1024 loader calls, for percentiles across instances. */
  loadTimesMs(): number[] {
    return this.loadTimes.values()
  }

  /** Zeroes the history counters and load times; entries and bytes are state and stay. */
  resetStats(): void {
    const { entries, bytes } = this.counters
    Object.assign(this.counters, new CacheCounters(), { entries, bytes })
    this.loadTimes.clear()
  }

  /** Age of the youngest value held, null when nothing is held. */
  youngestAgeMs(): number | null {
    const now = this.clock.now()
    let ageMs: number | null = null
    for (const slot of this.slots.values()) {
      const entry = this.lru.peek(slot.key)
      if (entry !== undefined && (ageMs === null || now - entry.loadedAt < ageMs))
        ageMs = Math.max(0, now - entry.loadedAt)
    }
    return ageMs
  }

  /** The freshest value held for `args` (fresh or kept for stale serving), counting nothing. */
  held(args: A): V | undefined {
    const entry = this.lru.peek(this.keyFor(args)) as StoredEntry<V> | undefined
    return entry !== undefined && this.clock.now() - entry.loadedAt < this.keepMs ? entry.value : undefined
  }

  stats(): CacheStats {
    const c = this.counters
    const requests = c.hits + c.misses + c.coalesced
    const ageMs = this.youngestAgeMs()
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
      loadMs: percentiles(this.loadTimes.values()),
      lastFetchedAt: this.lastFetchedAt,
      lastError: this.lastError,
      ageMs,
    }
  }
}
