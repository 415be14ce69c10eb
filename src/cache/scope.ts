import { hash } from 'node:crypto'

/**
 * Who a scoped read is for. `id` names everything a scoped value depends on (a user name and
 * the account it stands for): two principals with one `id` share their scope. Only a hash of
 * it reaches keys, the shared layer, the bus and stats.
 */
export interface Principal {
  readonly id: string
}

/**
 * How a cache answers a scoped read (`peek(args, scope)`, `read(args, scope)`):
 * - `view`: the value is the same for everyone and loaded once, unscoped; a scope's answer is
 *   `view(value, principal)`, derived when first read and kept until the unscoped entry it came
 *   from is replaced or dropped. Views stay in memory (each instance derives its own).
 * - `own`: each scope loads its own value (the loader gets the arguments as given, which the
 *   caller has narrowed to the principal), under a key of its scope, shared like any other.
 */
export type ScopedReads<V> =
  { readonly kind: 'view'; view(value: V, principal: Principal): V } | { readonly kind: 'own' }

/** The part of a key that names a scope: `<cache key>:~<scope id>[:<keyOf(args)>]`. */
export const SCOPE_MARK = '~'

/** A stable, user-free id for a principal (the same on every instance). */
export function scopeIdOf(principalId: string): string {
  return hash('sha256', `komandorr-cache scope\0${principalId}`, 'base64url').slice(0, 22)
}

/**
 * One principal's share of the memory layer: every scoped entry of every cache counts against
 * `maxBytes`, so one scope filling up evicts its own oldest entries, not anyone else's.
 */
export class Scope {
  readonly id: string
  /** Small and unique per registry: where a key's views keep this scope's view. */
  readonly index: number
  entries = 0
  bytes = 0
  /** Entries this scope pushed out of memory to stay within its quota. */
  evictions = 0
  /** Views derived from unscoped values. */
  derivations = 0
  /** Keys held, oldest stored first: the quota evicts from the front. */
  private readonly held = new Map<string, number>()

  constructor(
    readonly principal: Principal,
    readonly maxBytes: number,
    index: number,
  ) {
    this.id = scopeIdOf(principal.id)
    this.index = index
  }

  /** False when `bytes` alone exceed the quota: such a value is answered but not held. */
  fits(bytes: number): boolean {
    return bytes <= this.maxBytes
  }

  /** Evicts this scope's oldest entries (other than `key`) until `bytes` more fit in place of `key`'s. */
  makeRoom(key: string, bytes: number, lru: { delete(key: string): unknown }): void {
    const replaced = this.held.get(key) ?? 0
    for (const oldest of this.held.keys()) {
      if (this.bytes - replaced + bytes <= this.maxBytes) return
      if (oldest === key) continue
      this.evictions++
      lru.delete(oldest)
    }
  }

  /** @internal an entry of this scope entered memory */
  added(key: string, bytes: number): void {
    this.held.delete(key)
    this.held.set(key, bytes)
    this.entries++
    this.bytes += bytes
  }

  /** @internal an entry of this scope left memory */
  removed(key: string, bytes: number): void {
    if (this.held.get(key) === bytes) this.held.delete(key)
    this.entries--
    this.bytes -= bytes
  }
}

/** Per-scope totals for stats: no principal, only the scope's hash. */
export interface ScopeStats {
  readonly scopes: number
  readonly maxBytesPerScope: number
  readonly entries: number
  readonly bytes: number
  /** The bytes of the fullest scope (0 with none): how near any one viewer is to the quota. */
  readonly largestBytes: number
  /** Since start, scopes cleared or deleted since included (a counter). */
  readonly evictions: number
  /** Since start, scopes cleared or deleted since included (a counter). */
  readonly derivations: number
  readonly perScope: ReadonlyArray<{
    readonly scope: string
    readonly entries: number
    readonly bytes: number
    readonly evictions: number
  }>
}

/** The scopes of a registry, one per principal id. */
export class ScopeTable {
  private readonly scopes = new Map<string, Scope>()
  /** Indexes of forgotten scopes, reused so that views arrays stay small. */
  private readonly freeIndexes: number[] = []
  private made = 0
  /** Counts of scopes forgotten, kept so that the totals only grow. */
  private forgottenEvictions = 0
  private forgottenDerivations = 0

  constructor(readonly maxBytesPerScope: number) {
    if (!Number.isSafeInteger(maxBytesPerScope) || maxBytesPerScope <= 0) {
      throw new Error(`maxBytesPerScope ${maxBytesPerScope} is not a positive whole number of bytes`)
    }
  }

  /** The scope of `principal`, made on first use. */
  of(principal: Principal): Scope {
    let scope = this.scopes.get(principal.id)
    if (scope === undefined) {
      scope = new Scope(principal, this.maxBytesPerScope, this.freeIndexes.pop() ?? this.made++)
      this.scopes.set(principal.id, scope)
    }
    return scope
  }

  /** The scope with hash `id`, if one was made here. */
  byId(id: string): Scope | undefined {
    for (const scope of this.scopes.values()) if (scope.id === id) return scope
    return undefined
  }

  forget(scope: Scope): void {
    if (this.scopes.get(scope.principal.id) !== scope) return
    this.scopes.delete(scope.principal.id)
    this.freeIndexes.push(scope.index)
    this.forgottenEvictions += scope.evictions
    this.forgottenDerivations += scope.derivations
  }

  stats(): ScopeStats {
    const perScope = [...this.scopes.values()]
      .map((s) => ({ scope: s.id, entries: s.entries, bytes: s.bytes, evictions: s.evictions }))
      .sort((a, b) => b.bytes - a.bytes)
    let derivations = this.forgottenDerivations
    for (const scope of this.scopes.values()) derivations += scope.derivations
    return {
      scopes: perScope.length,
      maxBytesPerScope: this.maxBytesPerScope,
      entries: perScope.reduce((n, s) => n + s.entries, 0),
      bytes: perScope.reduce((n, s) => n + s.bytes, 0),
      largestBytes: perScope[0]?.bytes ?? 0,
      evictions: perScope.reduce((n, s) => n + s.evictions, this.forgottenEvictions),
      derivations,
      perScope,
    }
  }
}
