import { messageOf, serialize } from './entry.js'
import type { MemoryStore } from './memory-store.js'
import type { RefreshAhead } from './refresh-ahead.js'
import type { CacheSetup } from './setup.js'
import type { SharedTier } from './shared-tier.js'
import { StoredEntry, type FlightResult } from './slot.js'
import type { TwoTierRead } from './two-tier-read.js'

export interface ReloadResult {
  readonly name: string
  readonly ok: boolean
  /** Keys reloaded. */
  readonly keys: number
  /** The first failure, when not ok. */
  readonly error?: string
}

/** What `Cache.patch` did; see there. */
export type PatchOutcome = 'patched' | 'confirmed' | 'unpatchable' | 'not-fresh' | 'loading' | 'outdated'

type Target<A> = { key: string; args: A }

/**
 * Loads nobody read for: `reload` (forced), `warm` (ahead of the first reader), `refresh` (the
 * upstream announced a change) and `patch` (it announced the change with its content). See the
 * `Cache` methods of the same names.
 */
export class UpstreamChanges<V, A> {
  constructor(
    private readonly setup: CacheSetup<A>,
    private readonly store: MemoryStore<V>,
    private readonly shared: SharedTier<V>,
    private readonly reads: TwoTierRead<V, A>,
    private readonly refreshAhead: RefreshAhead<V>,
    private readonly warmArgs: readonly A[],
    private readonly clear: () => Promise<boolean>,
    private readonly invalidateKey: (key: string) => Promise<boolean>,
  ) {}

  async reload(): Promise<ReloadResult> {
    const targets = this.heldOrDeclared()
    return this.outcomeOf(targets, await Promise.all(targets.map(({ key, args }) => this.reloadKey(key, args))))
  }

  async warm(): Promise<ReloadResult> {
    const { clock, counters, ttlMs } = this.setup
    const now = clock.now()
    const targets = this.heldOrDeclared().filter(({ key }) => {
      const held = this.store.lru.peek(key) as StoredEntry<V> | undefined
      return held === undefined || now - held.loadedAt >= ttlMs
    })
    const results = await Promise.all(
      targets.map(({ key, args }) => {
        const slot = this.store.slotFor(key, args)
        slot.warmedAt = now
        if (slot.flight !== undefined) return slot.flight.promise
        counters.refreshes++
        counters.warmRefreshes++
        this.setup.logger?.info({ cache: this.setup.name, key }, 'cache warm-up')
        return this.reads.startFlight(slot, args, 'refresh').promise
      }),
    )
    return this.outcomeOf(targets, results)
  }

  private heldOrDeclared(): Array<Target<A>> {
    const targets = this.store.heldKeys() as Array<Target<A>>
    if (targets.length === 0) {
      const argsList = this.setup.keyed ? this.warmArgs : [undefined as A]
      for (const args of argsList) targets.push({ key: this.setup.keyFor(args), args })
    }
    return targets
  }

  private outcomeOf(targets: ReadonlyArray<unknown>, results: ReadonlyArray<FlightResult<V>>): ReloadResult {
    const failure = results.find((result) => result.source === 'stale' || result.source === 'failed')
    return failure === undefined
      ? { name: this.setup.name, ok: true, keys: targets.length }
      : { name: this.setup.name, ok: false, keys: targets.length, error: messageOf(failure.error) }
  }

  private reloadKey(key: string, args: A): Promise<FlightResult<V>> {
    const slot = this.store.slotFor(key, args)
    if (slot.flight !== undefined) return slot.flight.promise
    this.setup.counters.refreshes++
    this.setup.counters.warmRefreshes++
    this.setup.logger?.info({ cache: this.setup.name, key }, 'cache reload')
    return this.reads.startFlight(slot, args, 'reload').promise
  }

  async refresh(args?: A): Promise<ReloadResult> {
    let targets: Array<Target<A>>
    if (this.setup.keyed && args === undefined) {
      targets = this.store.heldKeys() as Array<Target<A>>
      // Keys only other instances hold cannot be listed: drop them all, as a clear does.
      if (targets.length === 0) return { name: this.setup.name, ok: await this.clear(), keys: 0 }
    } else {
      targets = [{ key: this.setup.keyFor(args as A), args: args as A }]
    }
    const errors = (await Promise.all(targets.map(({ key, args }) => this.refreshKey(key, args)))).filter(
      (e) => e !== undefined,
    )
    return errors.length === 0
      ? { name: this.setup.name, ok: true, keys: targets.length }
      : { name: this.setup.name, ok: false, keys: targets.length, error: messageOf(errors[0]!.error) }
  }

  /** Resolves undefined, or the failure (a failed load, or the backoff step it waits for). */
  private async refreshKey(key: string, args: A): Promise<{ error: unknown } | undefined> {
    const now = this.setup.clock.now()
    const slot = this.store.slots.get(key)
    // A load in flight has a reader or a refresh behind it: let it store its value, then reload.
    // A value warmed within the idle window counts as read: dropping it would undo the warm-up.
    const awaited =
      slot !== undefined && now - Math.max(slot.lastReadAt, slot.warmedAt) <= this.setup.policy.idleWindowMs
    const readHere =
      slot !== undefined && (slot.flight !== undefined || (awaited && this.store.keptEntry(key, now) !== undefined))
    if (!readHere && !(await this.readElsewhere(key))) {
      await this.invalidateKey(key)
      return undefined
    }
    return this.refreshHeld(key, args)
  }

  private async readElsewhere(key: string): Promise<boolean> {
    const found = await this.shared.get(key)
    return found !== undefined && found.ageMs < this.setup.ttlMs
  }

  private async refreshHeld(key: string, args: A): Promise<{ error: unknown } | undefined> {
    if (this.store.closed) return undefined
    const { clock, counters } = this.setup
    const slot = this.store.slotFor(key, args)
    if (slot.flight !== undefined) {
      slot.followUp ??= slot.flight.promise.then(() => {
        slot.followUp = undefined
        return this.refreshHeld(key, args)
      })
      return slot.followUp
    }
    if (clock.now() < slot.backoffUntil) {
      // Due now: the key's timer reloads it when the step ends, if it is still read.
      slot.refreshAt = clock.now()
      this.refreshAhead.schedule(slot, this.store.lru.peek(key) as StoredEntry<V> | undefined)
      return { error: slot.lastError }
    }
    counters.refreshes++
    counters.pushRefreshes++
    this.setup.logger?.info({ cache: this.setup.name, key }, 'cache refresh (upstream change)')
    const result = await this.reads.startFlight(slot, args, 'reload').promise
    if (result.source === 'stale' || result.source === 'failed') return { error: result.error }
    if (!slot.retired) await this.setup.context.publish({ type: 'invalidate', name: this.setup.name, key })
    return undefined
  }

  patch(
    update: (value: V) => V | undefined,
    args: A | undefined,
    refetchAfterMs: number | undefined,
  ): Promise<PatchOutcome> {
    const { clock, name } = this.setup
    const key = this.setup.keyFor(args as A)
    const slot = this.store.slots.get(key)
    const held = this.store.lru.peek(key) as StoredEntry<V> | undefined
    const now = clock.now()
    if (this.store.closed || slot === undefined || held === undefined || now - held.loadedAt >= this.setup.ttlMs)
      return Promise.resolve('not-fresh')
    if (slot.flight !== undefined) return Promise.resolve('loading')
    const inDemand = now - slot.lastReadAt <= this.setup.policy.idleWindowMs
    if (inDemand && refetchAfterMs !== undefined && clock.wallNow() - held.fetchedAt >= refetchAfterMs) {
      return Promise.resolve('outdated')
    }
    const value = update(held.value)
    if (value === undefined) return Promise.resolve('unpatchable')
    const confirmed = value === held.value
    const json = confirmed ? held.json : serialize(value, `cache ${name} (${key}): patch`)
    const entry = confirmed
      ? new StoredEntry(value, json, now, held.fetchedAt, slot, held.etag, held.bytes)
      : new StoredEntry(value, json, now, held.fetchedAt, slot)
    this.store.store(slot, entry)
    this.refreshAhead.schedule(slot, entry)
    // Sent now, before any clear that follows can send its delete: Redis keeps the order.
    const written = this.shared.set(slot, entry)
    const outcome: PatchOutcome = confirmed ? 'confirmed' : 'patched'
    if (confirmed) return written.then(() => outcome)
    return written.then(async () => {
      if (!slot.retired) await this.setup.context.publish({ type: 'invalidate', name, key })
      return outcome
    })
  }
}
