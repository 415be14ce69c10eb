import type { Clock, TimerHandle } from './clock.js'
import { messageOf, type CacheRead } from './entry.js'
import type { FlightCoordinator } from './flight.js'
import type { CacheLogger } from './logger.js'
import type { LoaderRunner } from './loader-runner.js'
import type { MemoryLru } from './memory.js'
import type { MemoryStore } from './memory-store.js'
import type { RefreshAhead } from './refresh-ahead.js'
import type { Scope } from './scope.js'
import type { CacheSetup } from './setup.js'
import type { SharedHit } from './shared.js'
import type { SharedTier } from './shared-tier.js'
import { Flight, type FlightResult, type KeySlot, type StoredEntry } from './slot.js'
import type { CacheCounters } from './stats.js'

/** Why a load runs: a reader's miss, refresh-ahead or a warm-up (shared layer first), or a forced reload (no shared read). */
export type LoadMode = 'read' | 'refresh' | 'reload'

/**
 * The read path of one cache, top to bottom: memory (`peek`) → single flight per key → shared
 * layer → loader (through the cluster's flight coordinator) → on failure the last good value,
 * kept `maxStaleMs` past its TTL. A reader waits for a load at most `softTimeoutMs` while an
 * older value is held.
 */
export class TwoTierRead<V, A> {
  // The hot path's fields, read straight off this object.
  private readonly lru: MemoryLru
  private readonly clock: Clock
  private readonly ttlMs: number
  private readonly refreshAfterMs: number
  private readonly counters: CacheCounters
  private readonly hitLogger: CacheLogger | undefined
  private readonly name: string

  constructor(
    private readonly setup: CacheSetup<A>,
    private readonly store: MemoryStore<V>,
    private readonly shared: SharedTier<V>,
    private readonly runner: LoaderRunner<V, A>,
    private readonly refreshAhead: RefreshAhead<V>,
    private readonly coordinator: FlightCoordinator,
  ) {
    this.lru = store.lru
    this.clock = setup.clock
    this.ttlMs = setup.ttlMs
    this.refreshAfterMs = setup.refreshAfterMs
    this.counters = setup.counters
    this.hitLogger = setup.hitLogger
    this.name = setup.name
  }

  /**
   * Memory: the fresh entry of `key` (counting a hit and marking demand), or undefined, counting
   * nothing. One map lookup, one clock read, one compare; allocates nothing.
   */
  peek(key: string): StoredEntry<V> | undefined {
    const entry = this.lru.get(key) as StoredEntry<V> | undefined
    if (entry === undefined) return undefined
    const now = this.clock.now()
    const age = now - entry.loadedAt
    if (age >= this.ttlMs) return undefined
    this.counters.hits++
    entry.slot.lastReadAt = now
    if (age >= this.refreshAfterMs) this.refreshAhead.onReadPastRefreshPoint(entry.slot, now)
    if (this.hitLogger !== undefined)
      this.hitLogger.debug({ cache: this.name, key: entry.slot.key, ageMs: age }, 'cache hit')
    return entry
  }

  /** Past memory: joins the key's load in flight, or serves the held value during backoff, or starts a load. */
  async readThrough(args: A, scope?: Scope): Promise<CacheRead<V>> {
    const key = this.setup.keyFor(args, scope)
    const now = this.clock.now()
    const slot = this.store.slotFor(key, args, scope)
    slot.lastReadAt = now
    if (slot.flight !== undefined) {
      const result = await this.waitFor(slot.flight, slot, now)
      if ('outcome' in result) return result
      this.counters.coalesced++
      return this.answer(result, 'coalesced')
    }
    if (now < slot.backoffUntil) {
      this.counters.misses++
      const kept = this.store.keptEntry(key, now)
      if (kept === undefined) throw slot.lastError
      return this.serveStale(kept, slot.lastError)
    }
    this.setup.logger?.info({ cache: this.name, key }, 'cache miss')
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
    if (this.store.keptEntry(slot.key, readAt) === undefined) return flight.promise
    let timer: TimerHandle | undefined
    const softTimeout = new Promise<undefined>((resolve) => {
      timer = this.clock.setTimer(() => resolve(undefined), this.setup.policy.softTimeoutMs)
    })
    const result = await Promise.race([flight.promise, softTimeout])
    this.clock.clearTimer(timer!)
    if (result !== undefined) return result
    const now = this.clock.now()
    const held = slot.retired ? undefined : this.store.keptEntry(slot.key, now)
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
    this.setup.logger?.info(
      {
        cache: this.name,
        key: entry.slot.key,
        ageMs: Math.max(0, this.clock.now() - entry.loadedAt),
        error: messageOf(error),
      },
      'cache served stale',
    )
    return { entry, outcome: 'stale', error }
  }

  /** Starts the key's single flight; readers, refreshes and reloads of the key join it until it ends. */
  startFlight(slot: KeySlot<V>, args: A, mode: LoadMode): Flight<V> {
    const flight = new Flight<V>()
    slot.flight = flight
    flight.promise = this.runFlight(slot, flight, args, mode)
    return flight
  }

  private async runFlight(slot: KeySlot<V>, flight: Flight<V>, args: A, mode: LoadMode): Promise<FlightResult<V>> {
    let result: FlightResult<V>
    let staleShared: SharedHit | undefined
    try {
      const found = mode === 'reload' || this.shared.layer === undefined ? undefined : await this.shared.get(slot.key)
      const freshFor = mode === 'refresh' ? this.refreshAfterMs : this.ttlMs
      const adopted = found !== undefined && found.ageMs < freshFor ? this.shared.adopt(slot, found) : undefined
      if (adopted !== undefined) {
        result = { source: 'shared', entry: adopted }
      } else {
        if (found !== undefined && found.ageMs < this.setup.keepMs) staleShared = found
        result = { source: 'loader', entry: await this.loadOnce(slot, args) }
      }
    } catch (error) {
      const kept = this.lastGood(slot, staleShared)
      result =
        kept !== undefined ? { source: 'stale', entry: kept, error } : { source: 'failed', entry: undefined, error }
    }
    if (slot.flight === flight) slot.flight = undefined
    this.refreshAhead.schedule(slot, this.lru.peek(slot.key) as StoredEntry<V> | undefined)
    return result
  }

  private async loadOnce(slot: KeySlot<V>, args: A): Promise<StoredEntry<V>> {
    // A cache that keeps its values to itself cannot take another instance's load.
    if (this.shared.layer === undefined) return this.runner.load(slot, args)
    const loaded = await this.coordinator.run(slot.key, () => this.runner.load(slot, args))
    if (loaded !== undefined) return loaded
    // Another instance ran the load; its value is in the shared layer unless that load failed.
    const found = await this.shared.get(slot.key)
    return (
      (found !== undefined && found.ageMs < this.ttlMs ? this.shared.adopt(slot, found) : undefined) ??
      this.runner.load(slot, args)
    )
  }

  /** The younger of the kept memory value and the shared layer's stale value, if any. */
  private lastGood(slot: KeySlot<V>, staleShared: SharedHit | undefined): StoredEntry<V> | undefined {
    const now = this.clock.now()
    const kept = slot.retired ? undefined : this.store.keptEntry(slot.key, now)
    if (staleShared === undefined || (kept !== undefined && now - kept.loadedAt <= staleShared.ageMs)) return kept
    return this.shared.adopt(slot, staleShared) ?? kept
  }
}
