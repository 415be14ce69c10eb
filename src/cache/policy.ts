import type { Serialized } from './entry.js'
import type { ScopedReads } from './scope.js'

/** How a cache behaves around its TTL. Every knob can be set per registry (`defaults`) and per declaration. */
export interface CachePolicy {
  /** How long past its TTL a value is kept to be served when the loader fails. Default 1 h. */
  readonly maxStaleMs: number
  /** Fraction of the TTL at which a value in demand is reloaded in the background. Default 0.8. */
  readonly refreshAheadAt: number
  /** A key is in demand while it was read within this window. Default 60 s. */
  readonly idleWindowMs: number
  /** Background refresh at all; off for caches the app recomputes on its own schedule. Default true. */
  readonly refreshAhead: boolean
  /** Use the registry's shared layer (Redis). Default true. */
  readonly shared: boolean
  /** A loader call that takes longer fails (and its signal aborts). Default 30 s. */
  readonly loadTimeoutMs: number
  /**
   * How long a reader waits for a load while an older value of its key is held (within
   * `maxStaleMs`) before it takes that value, marked stale. Default 50 ms.
   */
  readonly softTimeoutMs: number
  /** First backoff step after a failed load; doubles per consecutive failure. Default 1 s. */
  readonly backoffBaseMs: number
  /** Largest backoff step. Default 30 s. */
  readonly backoffMaxMs: number
}

export const defaultPolicy: CachePolicy = Object.freeze({
  maxStaleMs: 3_600_000,
  refreshAheadAt: 0.8,
  idleWindowMs: 60_000,
  refreshAhead: true,
  shared: true,
  loadTimeoutMs: 30_000,
  softTimeoutMs: 50,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
})

/** Refresh-ahead fires up to this fraction of the TTL early, so that caches do not reload in step. */
export const REFRESH_JITTER = 0.05

/** One cache, declared once. `A` is the loader's argument (`void` for a cache of one key). */
export interface CacheDeclaration<V, A = void> extends Partial<CachePolicy> {
  /** The name in stats, clears and logs: `plex_sessions`. */
  readonly name: string
  /** The key (and the prefix of keyed entries): `plex:sessions`. Never put a secret in it. */
  readonly key: string
  readonly ttlMs: number
  /** For a keyed cache: the suffix of an entry's key, `key + ':' + keyOf(args)`. */
  readonly keyOf?: (args: A) => string
  /**
   * Loads the value; it must have a JSON form, or be handed over serialized (`Serialized`).
   * Honour `signal` (timeout, shutdown).
   */
  readonly load: (args: A, signal: AbortSignal) => Promise<V | Serialized<V>> | V | Serialized<V>
  /** For a keyed cache: what `reload` loads when no key is held; these are its base keys. */
  readonly warmArgs?: readonly A[]
  /** How a read for a principal is answered (see `ScopedReads`); absent: the cache has no scoped reads. */
  readonly scoped?: ScopedReads<V>
  /** For a keyed cache: the most keys it holds in memory, and in the shared layer. Default 64. */
  readonly maxKeys?: number
  /**
   * For a keyed cache: the most bytes of values it holds in memory (their JSON), and in the
   * shared layer (as stored there, compressed). Default 32 MiB.
   */
  readonly maxBytes?: number
  /**
   * For a keyed cache: how long past the TTL the shared layer keeps a key other than the base
   * keys (a query variant). Default the TTL, at most `maxStaleMs`.
   */
  readonly variantMaxStaleMs?: number
}

/** How much of a keyed cache each tier holds: no client can grow it without limit by asking new keys. */
export interface KeyBounds {
  readonly maxKeys: number
  readonly maxBytes: number
  readonly variantMaxStaleMs: number
}

export const DEFAULT_KEY_BOUNDS = Object.freeze({ maxKeys: 64, maxBytes: 32 * 1024 * 1024 })

/** The bounds of a keyed cache (undefined for a cache of one key). */
export function resolveKeyBounds(
  declaration: Pick<CacheDeclaration<unknown>, 'name' | 'ttlMs' | 'maxKeys' | 'maxBytes' | 'variantMaxStaleMs'> & {
    readonly keyOf?: unknown
  },
  policy: CachePolicy,
): KeyBounds | undefined {
  const what = `cache "${declaration.name}"`
  if (declaration.keyOf === undefined) {
    for (const knob of ['maxKeys', 'maxBytes', 'variantMaxStaleMs'] as const) {
      if (declaration[knob] !== undefined) throw new Error(`${what}: ${knob} is for a keyed cache (one with keyOf)`)
    }
    return undefined
  }
  const bounds: KeyBounds = Object.freeze({
    maxKeys: declaration.maxKeys ?? DEFAULT_KEY_BOUNDS.maxKeys,
    maxBytes: declaration.maxBytes ?? DEFAULT_KEY_BOUNDS.maxBytes,
    variantMaxStaleMs: declaration.variantMaxStaleMs ?? Math.min(declaration.ttlMs, policy.maxStaleMs),
  })
  for (const knob of ['maxKeys', 'maxBytes'] as const) {
    if (!Number.isSafeInteger(bounds[knob]) || bounds[knob] < 1)
      throw new Error(`${what}: ${knob} ${bounds[knob]} is not a positive whole number`)
  }
  requireMs(what, 'variantMaxStaleMs', bounds.variantMaxStaleMs, true)
  if (bounds.variantMaxStaleMs > policy.maxStaleMs) {
    throw new Error(
      `${what}: variantMaxStaleMs ${bounds.variantMaxStaleMs} is longer than maxStaleMs ${policy.maxStaleMs}; variants live shorter than base keys`,
    )
  }
  return bounds
}

export function resolvePolicy(
  declaration: Partial<CachePolicy> & { readonly name: string; readonly key: string; readonly ttlMs: number },
  defaults: Partial<CachePolicy> | undefined,
): CachePolicy {
  const pick = <K extends keyof CachePolicy>(knob: K): CachePolicy[K] =>
    declaration[knob] ?? defaults?.[knob] ?? defaultPolicy[knob]
  const policy: CachePolicy = Object.freeze({
    maxStaleMs: pick('maxStaleMs'),
    refreshAheadAt: pick('refreshAheadAt'),
    idleWindowMs: pick('idleWindowMs'),
    refreshAhead: pick('refreshAhead'),
    shared: pick('shared'),
    loadTimeoutMs: pick('loadTimeoutMs'),
    softTimeoutMs: pick('softTimeoutMs'),
    backoffBaseMs: pick('backoffBaseMs'),
    backoffMaxMs: pick('backoffMaxMs'),
  })
  const what = `cache "${declaration.name}"`
  if (!declaration.name) throw new Error('a cache declaration needs a name')
  if (!declaration.key) throw new Error(`${what}: key is empty; give the key it is stored under, e.g. "plex:sessions"`)
  requireMs(what, 'ttlMs', declaration.ttlMs, false)
  requireMs(what, 'maxStaleMs', policy.maxStaleMs, true)
  requireMs(what, 'idleWindowMs', policy.idleWindowMs, true)
  requireMs(what, 'loadTimeoutMs', policy.loadTimeoutMs, false)
  requireMs(what, 'softTimeoutMs', policy.softTimeoutMs, true)
  requireMs(what, 'backoffBaseMs', policy.backoffBaseMs, false)
  requireMs(what, 'backoffMaxMs', policy.backoffMaxMs, false)
  if (!(policy.refreshAheadAt > 0 && policy.refreshAheadAt <= 1)) {
    throw new Error(`${what}: refreshAheadAt ${policy.refreshAheadAt} is not a fraction of the TTL in (0, 1]`)
  }
  return policy
}

function requireMs(what: string, knob: string, ms: number, zeroAllowed: boolean): void {
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !zeroAllowed)) {
    throw new Error(`${what}: ${knob} ${ms} is not a ${zeroAllowed ? 'non-negative' : 'positive'} finite number of ms`)
  }
}
