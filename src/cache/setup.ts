import type { InvalidationMessage } from './bus.js'
import type { Clock } from './clock.js'
import type { FlightCoordinator } from './flight.js'
import { hitLoggerOf, type CacheLogger } from './logger.js'
import type { MemoryLayer } from './memory.js'
import { resolveKeyBounds, resolvePolicy, type CacheDeclaration, type CachePolicy, type KeyBounds } from './policy.js'
import { SCOPE_MARK, type Scope, type ScopeTable } from './scope.js'
import type { SharedLayer } from './shared.js'
import { CacheCounters } from './stats.js'

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

/** What every part of one cache reads: its declaration resolved once, the registry's context, its counters. */
export interface CacheSetup<A> {
  readonly name: string
  /** The key, or for a keyed cache the prefix of its keys. */
  readonly key: string
  readonly ttlMs: number
  readonly policy: CachePolicy
  readonly keyed: boolean
  /** For a keyed cache: how many keys and bytes it may hold in each tier. */
  readonly bounds: KeyBounds | undefined
  /** TTL + `maxStaleMs`: how long a value is kept for stale serving. */
  readonly keepMs: number
  /** Age at which refresh-ahead reloads a key in demand; Infinity without refresh-ahead. */
  readonly refreshAfterMs: number
  readonly clock: Clock
  readonly logger: CacheLogger | undefined
  /** The logger for hit lines, or undefined when debug is off. */
  readonly hitLogger: CacheLogger | undefined
  readonly context: CacheContext
  /** Live raw counters, bumped by every part. */
  readonly counters: CacheCounters
  /** See `Cache.keyFor`. */
  keyFor(args: A, scope?: Scope): string
}

export function resolveSetup<A>(declaration: CacheDeclaration<unknown, A>, context: CacheContext): CacheSetup<A> {
  const policy = resolvePolicy(declaration, context.defaults)
  const { key, keyOf, ttlMs } = declaration
  return {
    name: declaration.name,
    key,
    ttlMs,
    policy,
    keyed: keyOf !== undefined,
    bounds: resolveKeyBounds(declaration, policy),
    keepMs: ttlMs + policy.maxStaleMs,
    refreshAfterMs: policy.refreshAhead ? policy.refreshAheadAt * ttlMs : Infinity,
    clock: context.clock,
    logger: context.logger,
    hitLogger: hitLoggerOf(context.logger),
    context,
    counters: new CacheCounters(),
    keyFor(args: A, scope?: Scope): string {
      const base = scope === undefined ? key : `${key}:${SCOPE_MARK}${scope.id}`
      return keyOf === undefined ? base : `${base}:${keyOf(args)}`
    },
  }
}
