import { randomUUID } from 'node:crypto'
import { noopBus, type InvalidationBus, type InvalidationMessage } from './bus.js'
import { Cache, type CacheContext, type ReloadResult } from './cache.js'
import { systemClock, type Clock } from './clock.js'
import { messageOf } from './entry.js'
import { localFlights, type FlightCoordinator } from './flight.js'
import type { EvictionPolicy } from './eviction/index.js'
import type { CacheLogger } from './logger.js'
import { MemoryLayer } from './memory.js'
import type { CacheDeclaration, CachePolicy } from './policy.js'
import { ScopeTable, type Principal, type Scope, type ScopeStats } from './scope.js'
import type { SharedLayer } from './shared.js'
import type { CacheStats } from './stats.js'

export interface CacheRegistryOptions {
  /** Default `systemClock`. */
  readonly clock?: Clock
  /** The memory budget shared by every cache of the registry. Default 64 MiB. */
  readonly maxBytes?: number
  /** What leaves memory when the budget is full. Default `lru`. */
  readonly eviction?: EvictionPolicy
  /** Policy for every cache that does not set its own. */
  readonly defaults?: Partial<CachePolicy>
  readonly logger?: CacheLogger
  /** The second tier (Redis). Default none. */
  readonly shared?: SharedLayer
  /** Cross-instance single flight. Default: every load runs here. */
  readonly coordinator?: FlightCoordinator
  /** Clears and invalidations to and from other instances. Default: none. */
  readonly bus?: InvalidationBus
  /** Source of refresh-ahead jitter, in [0, 1). Default `Math.random`. */
  readonly random?: () => number
  /** What one scope's entries (every cache's) may hold in memory. Default `maxBytes / 16`. */
  readonly maxBytesPerScope?: number
  /** Told of every loader call when it ends (for a latency histogram); keep it cheap. */
  readonly onLoad?: (cache: string, ms: number, ok: boolean) => void
}

export interface ClearResult {
  readonly cleared: readonly string[]
  /** The shared layer confirmed the clear (false without a shared layer). */
  readonly sharedCleared: boolean
}

/** A cache of any value and argument, as the registry lists it. */
export type AnyCache = Cache<unknown, unknown>

/**
 * A cache that keeps its own storage (a blob cache's memory and disk tiers) but is cleared,
 * warmed and counted with the registry's: `attach` it, and stats, clear, warm and the bus cover it.
 */
export interface AttachedCache {
  readonly name: string
  readonly key: string
  stats(): CacheStats
  resetStats(): void
  /** Drops everything it holds; false when some of it could not be confirmed dropped. */
  clear(): Promise<boolean>
  /** Drops what this instance holds in memory (a clear that another instance published). */
  dropAll(): void
  reload(): Promise<ReloadResult>
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

/** Every cache of the service, declared once; clears, reloads and stats go through here. */
export class CacheRegistry {
  /** Tells this registry's bus messages from other instances'. */
  readonly origin = randomUUID()
  private readonly caches = new Map<string, AnyCache>()
  private readonly attached = new Map<string, AttachedCache>()
  private readonly context: CacheContext
  private readonly bus: InvalidationBus
  private readonly unsubscribe: () => void
  private readonly scopeDropListeners = new Set<(scopeId: string) => void>()
  private closed = false

  constructor(options: CacheRegistryOptions = {}) {
    this.bus = options.bus ?? noopBus
    const logger = options.logger
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    this.context = {
      scopes: new ScopeTable(options.maxBytesPerScope ?? Math.max(1, Math.floor(maxBytes / 16))),
      clock: options.clock ?? systemClock,
      memory: new MemoryLayer(maxBytes, options.eviction),
      shared: options.shared,
      coordinator: options.coordinator ?? localFlights,
      random: options.random ?? Math.random,
      logger,
      defaults: options.defaults,
      onLoad: options.onLoad,
      publish: async (message) => {
        try {
          await this.bus.publish({ ...message, origin: this.origin })
        } catch (error) {
          logger?.warn({ error: messageOf(error), type: message.type }, 'cache invalidation not published')
        }
      },
    }
    this.unsubscribe = this.bus.subscribe((message) => this.receive(message))
  }

  define<V, A = void>(declaration: CacheDeclaration<V, A>): Cache<V, A> {
    this.checkNew(declaration)
    const cache = new Cache<V, A>(declaration, this.context)
    this.caches.set(cache.name, cache as unknown as AnyCache)
    return cache
  }

  /** Lists a cache with its own storage beside the declared ones (stats, clear, warm, the bus). */
  attach<C extends AttachedCache>(cache: C): C {
    this.checkNew(cache)
    this.attached.set(cache.name, cache)
    return cache
  }

  private checkNew(declaration: { readonly name: string; readonly key: string }): void {
    if (this.closed) throw new Error(`cache "${declaration.name}" declared after the registry was closed`)
    if (this.caches.has(declaration.name) || this.attached.has(declaration.name))
      throw new Error(`cache "${declaration.name}" is declared twice`)
    for (const other of [...this.caches.values(), ...this.attached.values()]) {
      if (other.key === declaration.key) {
        throw new Error(
          `cache "${declaration.name}": key "${declaration.key}" is already used by cache "${other.name}"`,
        )
      }
    }
  }

  /** Every cache, in declaration order. */
  list(): AnyCache[] {
    return [...this.caches.values()]
  }

  get(name: string): AnyCache | undefined {
    return this.caches.get(name)
  }

  /** Attached caches (with their own storage), in attach order. */
  listAttached(): AttachedCache[] {
    return [...this.attached.values()]
  }

  /** Declared caches, then attached ones. */
  stats(): CacheStats[] {
    return [...this.list(), ...this.attached.values()].map((cache) => cache.stats())
  }

  /** The scope of a principal: pass it to `peek`/`read` of a cache with scoped reads. */
  scope(principal: Principal): Scope {
    return this.context.scopes.of(principal)
  }

  /** Per-scope totals (no principal names, only scope hashes). */
  scopeStats(): ScopeStats {
    return this.context.scopes.stats()
  }

  /**
   * Drops one principal's keys and views from every cache, here, in the shared layer and on
   * every instance, and forgets its scope. True when the shared layer confirmed (or held none).
   */
  async clearScope(principal: Principal): Promise<boolean> {
    const scope = this.context.scopes.of(principal)
    this.dropScope(scope.id)
    const [, ...confirmed] = await Promise.all([
      this.context.publish({ type: 'clear-scope', scope: scope.id }),
      ...this.list().map((cache) => cache.clearScopeShared(scope.id)),
    ])
    return confirmed.every(Boolean)
  }

  /**
   * Calls `listener` with a scope's id whenever that scope is cleared, here or (through the bus)
   * on another instance; returns the function that stops it.
   */
  onScopeDropped(listener: (scopeId: string) => void): () => void {
    this.scopeDropListeners.add(listener)
    return () => this.scopeDropListeners.delete(listener)
  }

  private dropScope(scopeId: string): void {
    for (const cache of this.caches.values()) cache.dropScope(scopeId)
    const scope = this.context.scopes.byId(scopeId)
    if (scope !== undefined) this.context.scopes.forget(scope)
    for (const listener of this.scopeDropListeners) listener(scopeId)
  }

  resetStats(): void {
    for (const cache of [...this.caches.values(), ...this.attached.values()]) cache.resetStats()
  }

  async clear(name: string): Promise<ClearResult> {
    const attached = this.attached.get(name)
    if (attached !== undefined) {
      await Promise.all([attached.clear(), this.context.publish({ type: 'clear', name })])
      return { cleared: [name], sharedCleared: false }
    }
    const cache = this.require(name)
    return { cleared: [name], sharedCleared: await cache.clear() }
  }

  async clearAll(): Promise<ClearResult> {
    const caches = this.list()
    for (const cache of caches) cache.dropAll()
    for (const cache of this.attached.values()) cache.dropAll()
    await this.context.publish({ type: 'clear-all' })
    const sharing = caches.filter((cache) => cache.usesSharedLayer)
    const [confirmed] = await Promise.all([
      Promise.all(sharing.map((cache) => cache.clearShared())),
      Promise.all(this.listAttached().map((cache) => cache.clear())),
    ])
    return {
      cleared: [...caches, ...this.attached.values()].map((cache) => cache.name),
      sharedCleared: sharing.length > 0 && confirmed.every(Boolean),
    }
  }

  /** Drops one key (`args`) of a cache, or all of a keyed cache when `args` is omitted. */
  async invalidate(name: string, args?: unknown): Promise<boolean> {
    const cache = this.require(name)
    if (args === undefined && cache.keyed) return cache.clear()
    return cache.invalidate(args)
  }

  /** Reloads one key (`args`), or every key held of a keyed cache, in the background: see `Cache.refresh`. */
  refresh(name: string, args?: unknown): Promise<ReloadResult> {
    return this.require(name).refresh(args)
  }

  reload(name: string): Promise<ReloadResult> {
    return this.require(name).reload()
  }

  reloadAll(): Promise<ReloadResult[]> {
    return Promise.all([...this.list(), ...this.attached.values()].map((cache) => cache.reload()))
  }

  /** Stops every timer, aborts loads in flight and leaves the bus. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.unsubscribe()
    for (const cache of this.caches.values()) cache.close()
  }

  private receive(message: InvalidationMessage): void {
    if (message.origin === this.origin) return
    if (message.type === 'clear-all') {
      for (const cache of [...this.caches.values(), ...this.attached.values()]) cache.dropAll()
    } else if (message.type === 'clear') {
      ;(this.caches.get(message.name) ?? this.attached.get(message.name))?.dropAll()
    } else if (message.type === 'clear-scope') {
      this.dropScope(message.scope)
    } else {
      this.caches.get(message.name)?.dropKey(message.key)
    }
  }

  private require(name: string): AnyCache {
    const cache = this.caches.get(name)
    if (cache === undefined) {
      throw new Error(`no cache named "${name}"; the registry has: ${[...this.caches.keys()].join(', ') || 'none'}`)
    }
    return cache
  }
}

export function createCacheRegistry(options: CacheRegistryOptions = {}): CacheRegistry {
  return new CacheRegistry(options)
}
