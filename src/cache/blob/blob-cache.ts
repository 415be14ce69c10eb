import type { ReloadResult } from '../cache.js'
import type { Clock } from '../clock.js'
import { messageOf } from '../entry.js'
import { createByteMap, type ByteMap, type EvictionPolicy } from '../eviction/index.js'
import type { CacheLogger } from '../logger.js'
import { CacheCounters, LoadTimeRing, percentiles, type CacheStats } from '../stats.js'
import { blobEntry, type BlobEntry, type BlobValue } from './blob-entry.js'
import { DiskTier } from './disk-tier.js'

/** A cache of bytes (images), declared once: two tiers of its own, outside the registry's memory budget. */
export interface BlobCacheDeclaration<A> {
  /** The name in stats, clears and logs: `plex_images`. */
  readonly name: string
  /** The prefix of its keys in stats: `plex:images`. */
  readonly key: string
  /** An entry's key; also its file name on disk, so only `[A-Za-z0-9_-]` (a hash). Never a secret. */
  readonly keyOf: (args: A) => string
  readonly load: (args: A, signal: AbortSignal) => Promise<BlobValue>
  /** How long a loaded value is fresh: Infinity for an immutable one. */
  readonly freshForMs: (args: A) => number
  /** The freshness shown in stats (of the entries that expire). */
  readonly ttlMs: number
  /** How long past freshness a value is kept to be served when the loader fails. Default 7 days. */
  readonly maxStaleMs?: number
  /** A loader call that takes longer fails (and its signal aborts). Default 30 s. */
  readonly loadTimeoutMs?: number
  readonly memory: { readonly maxBytes: number; readonly eviction: EvictionPolicy }
  /** Without it, memory only. */
  readonly disk?: { readonly dir: string; readonly maxBytes: number; readonly eviction: EvictionPolicy }
}

export interface BlobCacheContext {
  readonly clock: Clock
  readonly logger?: CacheLogger
}

/** Where a read's bytes came from. */
export type BlobTier = 'memory' | 'disk' | 'upstream'

export interface BlobRead {
  readonly entry: BlobEntry
  /** As for JSON caches: hit (memory or disk), miss (loaded), coalesced (joined a load), stale (the loader failed). */
  readonly outcome: 'hit' | 'miss' | 'coalesced' | 'stale'
  readonly tier: BlobTier
  /** For a stale read: the loader's error. */
  readonly error?: unknown
}

type FlightResult =
  | { readonly source: 'disk' | 'loader'; readonly entry: BlobEntry; readonly error?: undefined }
  | { readonly source: 'stale'; readonly entry: BlobEntry; readonly error: unknown }

/**
 * A cache of blobs: memory (a byte map with its own budget and policy) → disk (`DiskTier`) →
 * single flight per key → loader; when the loader fails, a value kept past its freshness is
 * served as `stale`. Freshness is wall-clock (`Clock.wallNow`): a file on disk outlives the
 * process's monotonic clock. A clear retires every load in flight: it still answers its
 * waiters, but writes nothing back.
 */
export class BlobCache<A> {
  readonly name: string
  readonly key: string
  readonly ttlMs: number
  readonly keyed = true
  readonly usesSharedLayer = false
  readonly counters = new CacheCounters()
  readonly maxStaleMs: number
  private readonly memory: ByteMap<string, BlobEntry>
  private readonly disk: DiskTier | undefined
  private readonly flights = new Map<string, Promise<FlightResult>>()
  private readonly loadTimes = new LoadTimeRing()
  private readonly loadTimeoutMs: number
  private readonly opened: Promise<void>
  private generation = 0
  private diskHits = 0
  private lastFetchedAt: number | null = null
  private lastError: string | null = null

  constructor(
    private readonly declaration: BlobCacheDeclaration<A>,
    private readonly context: BlobCacheContext,
  ) {
    this.name = declaration.name
    this.key = declaration.key
    this.ttlMs = declaration.ttlMs
    this.maxStaleMs = declaration.maxStaleMs ?? 7 * 86_400_000
    this.loadTimeoutMs = declaration.loadTimeoutMs ?? 30_000
    this.memory = createByteMap<string, BlobEntry>(declaration.memory.eviction, {
      maxBytes: declaration.memory.maxBytes,
      sizeOf: (entry) => entry.bytes,
      onRemove: (entry, _key, reason) => {
        this.counters.entries--
        this.counters.bytes -= entry.bytes
        if (reason === 'evict') this.counters.evictions++
      },
    })
    const disk = declaration.disk
    this.disk =
      disk === undefined ? undefined : new DiskTier({ ...disk, logger: context.logger, name: declaration.name })
    this.opened = this.disk?.open() ?? Promise.resolve()
  }

  /** Resolves once the disk index is rebuilt (reads wait for it on their own). */
  ready(): Promise<void> {
    return this.opened
  }

  keyFor(args: A): string {
    return this.declaration.keyOf(args)
  }

  /** The fresh entry from memory (counting a hit), or undefined, counting nothing: follow with `read`. */
  peek(args: A): BlobEntry | undefined {
    const entry = this.memory.get(this.declaration.keyOf(args))
    if (entry === undefined || this.context.clock.wallNow() >= entry.freshUntil) return undefined
    this.counters.hits++
    return entry
  }

  /** Memory, then disk and the loader through one flight per key; stale on failure. */
  async read(args: A): Promise<BlobRead> {
    const hit = this.peek(args)
    if (hit !== undefined) return { entry: hit, outcome: 'hit', tier: 'memory' }
    const key = this.declaration.keyOf(args)
    const running = this.flights.get(key)
    if (running !== undefined) {
      this.counters.coalesced++
      return this.answer(await running, 'coalesced')
    }
    const flight = this.runFlight(key, args, this.generation)
    this.flights.set(key, flight)
    let result: FlightResult
    try {
      result = await flight
    } finally {
      if (this.flights.get(key) === flight) this.flights.delete(key)
    }
    if (result.source === 'disk') {
      this.counters.hits++
      return { entry: result.entry, outcome: 'hit', tier: 'disk' }
    }
    this.counters.misses++
    return this.answer(result, 'miss')
  }

  private answer(result: FlightResult, outcome: 'miss' | 'coalesced'): BlobRead {
    if (result.source === 'stale') {
      this.counters.staleServes++
      return { entry: result.entry, outcome: 'stale', tier: 'memory', error: result.error }
    }
    return { entry: result.entry, outcome, tier: result.source === 'disk' ? 'disk' : 'upstream' }
  }

  private async runFlight(key: string, args: A, generation: number): Promise<FlightResult> {
    await this.opened
    const now = this.context.clock.wallNow()
    let kept = this.memory.peek(key)
    if (kept === undefined && this.disk !== undefined) {
      const fromDisk = await this.disk.get(key)
      if (fromDisk !== undefined && now < fromDisk.freshUntil) {
        this.diskHits++
        if (generation === this.generation) this.storeInMemory(key, fromDisk)
        return { source: 'disk', entry: fromDisk }
      }
      kept = fromDisk
    }
    try {
      const entry = await this.load(key, args)
      if (generation === this.generation) {
        this.storeInMemory(key, entry)
        void this.disk?.set(key, entry)
      }
      return { source: 'loader', entry }
    } catch (error) {
      if (kept !== undefined && this.context.clock.wallNow() - kept.freshUntil < this.maxStaleMs) {
        this.context.logger?.info({ cache: this.name, key, error: messageOf(error) }, 'cache served stale')
        return { source: 'stale', entry: kept, error }
      }
      throw error
    }
  }

  private async load(key: string, args: A): Promise<BlobEntry> {
    const { clock, logger } = this.context
    const started = clock.now()
    this.counters.loads++
    logger?.info({ cache: this.name, key }, 'cache miss')
    const controller = new AbortController()
    const timer = clock.setTimer(
      () =>
        controller.abort(
          new Error(`cache ${this.name} (${key}): the loader did not finish within ${this.loadTimeoutMs} ms`),
        ),
      this.loadTimeoutMs,
    )
    try {
      const value = await Promise.race([this.declaration.load(args, controller.signal), aborted(controller.signal)])
      const entry = blobEntry(value, clock.wallNow(), this.declaration.freshForMs(args))
      this.lastFetchedAt = entry.fetchedAt
      this.lastError = null
      return entry
    } catch (error) {
      this.counters.loadErrors++
      this.lastError = messageOf(error)
      logger?.info({ cache: this.name, key, error: this.lastError }, 'cache loader failed')
      throw error
    } finally {
      clock.clearTimer(timer)
      this.loadTimes.record(clock.now() - started)
    }
  }

  private storeInMemory(key: string, entry: BlobEntry): void {
    if (entry.bytes > this.memory.maxSize) {
      this.counters.oversized++
      this.memory.delete(key)
      return
    }
    this.memory.set(key, entry)
    this.counters.entries++
    this.counters.bytes += entry.bytes
  }

  /** Empties both tiers; loads in flight answer their waiters but write nothing back. */
  async clear(): Promise<boolean> {
    this.dropAll()
    await this.disk?.clear()
    return true
  }

  /** @internal a clear of memory alone (another instance cleared: its disk is its own) */
  dropAll(): void {
    this.generation++
    this.flights.clear()
    this.memory.clear()
  }

  /**
   * A warm loads nothing here: a blob is loaded when first read and an expired one when read
   * again, and fetching every image ahead would cost the upstream what this cache saves it.
   */
  async reload(): Promise<ReloadResult> {
    return { name: this.name, ok: true, keys: 0 }
  }

  /** Waits for disk writes in flight (tests, shutdown). */
  async settled(): Promise<void> {
    await this.opened
    await this.disk?.settled()
  }

  /** Whether the disk tier is in use (false without one, or after it failed). */
  get diskEnabled(): boolean {
    return this.disk?.enabled ?? false
  }

  resetStats(): void {
    const { entries, bytes } = this.counters
    Object.assign(this.counters, new CacheCounters(), { entries, bytes })
    this.diskHits = 0
    this.loadTimes.clear()
  }

  loadTimesMs(): number[] {
    return this.loadTimes.values()
  }

  stats(): CacheStats & { readonly disk: BlobDiskStats } {
    const c = this.counters
    const requests = c.hits + c.misses + c.coalesced
    return {
      ...c,
      name: this.name,
      key: this.key,
      ttlMs: this.ttlMs,
      maxStaleMs: this.maxStaleMs,
      refreshAhead: false,
      shared: false,
      requests,
      hitRate: requests === 0 ? 0 : c.hits / requests,
      loadMs: percentiles(this.loadTimes.values()),
      lastFetchedAt: this.lastFetchedAt,
      lastError: this.lastError,
      ageMs:
        this.lastFetchedAt === null || c.entries === 0
          ? null
          : Math.max(0, this.context.clock.wallNow() - this.lastFetchedAt),
      disk: {
        enabled: this.diskEnabled,
        disabledReason: this.disk?.disabledReason ?? (this.disk === undefined ? 'no folder configured' : null),
        entries: this.disk?.entries ?? 0,
        bytes: this.disk?.bytes ?? 0,
        hits: this.diskHits,
      },
    }
  }
}

export interface BlobDiskStats {
  readonly enabled: boolean
  readonly disabledReason: string | null
  readonly entries: number
  readonly bytes: number
  /** Reads answered from disk (counted in `hits` too). */
  readonly hits: number
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
  })
}
