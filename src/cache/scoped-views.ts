import { serialize, type CacheRead } from './entry.js'
import type { MemoryStore } from './memory-store.js'
import type { Scope, ScopedReads } from './scope.js'
import type { CacheSetup } from './setup.js'
import { StoredEntry } from './slot.js'
import type { TwoTierRead } from './two-tier-read.js'

/**
 * Scoped reads of one cache: a principal's view derived from the unscoped entry (held beside
 * it, by scope index, until that entry goes), or the scope's own key read like any other.
 */
export class ScopedViews<V, A> {
  constructor(
    private readonly setup: CacheSetup<A>,
    private readonly store: MemoryStore<V>,
    private readonly reads: TwoTierRead<V, A>,
    private readonly scoped: ScopedReads<V> | undefined,
  ) {}

  /** The scope's fresh entry in memory, counting a hit on it (or on the entry its view comes from). */
  peek(args: A, scope: Scope): StoredEntry<V> | undefined {
    const scoped = this.scoped ?? this.requireScoped()
    if (scoped.kind === 'own') return this.reads.peek(this.setup.keyFor(args, scope))
    const source = this.reads.peek(this.setup.keyed ? this.setup.keyFor(args) : this.setup.key)
    if (source === undefined) return undefined
    // The hot path of a viewer: the view held for this scope, if derived from this very entry.
    const held = source.slot.views?.[scope.index]
    return held !== undefined && held.slot.viewOf === source && held.slot.scope === scope
      ? held
      : this.viewOf(source, scope, scoped.view)
  }

  /** Past memory: the scope's own key through the read path, or the view of the unscoped read. */
  read(args: A, scope: Scope): Promise<CacheRead<V>> {
    if (this.scoped?.kind === 'own') return this.reads.readThrough(args, scope)
    return this.readView(args, scope)
  }

  private async readView(args: A, scope: Scope): Promise<CacheRead<V>> {
    const scoped = this.requireScoped()
    if (scoped.kind !== 'view') throw new Error(`cache ${this.setup.name}: not a cache of views`)
    const read = await this.reads.readThrough(args)
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
    const slot = this.store.viewSlotFor(this.setup.keyFor(source.slot.args as A, scope), source.slot.args, scope)
    const value = view(source.value, scope.principal)
    const entry = new StoredEntry(
      value,
      serialize(value, `cache ${this.setup.name} (view of ${source.slot.key})`),
      source.loadedAt,
      source.fetchedAt,
      slot,
    )
    scope.derivations++
    slot.viewOf = source
    if (this.store.store(slot, entry)) (source.slot.views ??= [])[scope.index] = entry
    return entry
  }

  private requireScoped(): ScopedReads<V> {
    if (this.scoped === undefined)
      throw new Error(`cache ${this.setup.name} has no scoped reads: declare \`scoped\` to read it for a principal`)
    return this.scoped
  }
}
