import type { TimerHandle } from './clock.js'
import { etagOf, type CacheEntry, type CacheRead, type Serialized } from './entry.js'
import type { Scope } from './scope.js'

/** The outcome of one load of one key, shared by every reader that waited on it. */
export type FlightResult<V> =
  | { readonly source: 'shared' | 'loader'; readonly entry: StoredEntry<V>; readonly error?: undefined }
  | { readonly source: 'stale'; readonly entry: StoredEntry<V>; readonly error: unknown }
  | { readonly source: 'failed'; readonly entry: undefined; readonly error: unknown }

/** A load in progress; its promise never rejects (failures are a `FlightResult`). */
export class Flight<V> {
  promise!: Promise<FlightResult<V>>
}

export interface SlotOwner {
  /** Called by the memory layer when an entry leaves it (replaced, deleted or evicted). */
  onRemoved(entry: StoredEntry<unknown>, evicted: boolean): void
}

/**
 * The state of one key beside its value: load in flight, backoff, refresh timer, demand.
 * A clear retires the slot; a load writes back only into a slot that is still current, so a
 * load that started before a clear never stores its result.
 */
export class KeySlot<V> {
  flight: Flight<V> | undefined = undefined
  /** A `refresh` queued behind the flight, which may have asked the upstream before the change. */
  followUp: Promise<{ error: unknown } | undefined> | undefined = undefined
  timer: TimerHandle | undefined = undefined
  /** Monotonic ms of the last read (peek or read): the demand that refresh-ahead needs. */
  lastReadAt = -Infinity
  /** Monotonic ms of the last warm-up of the key: a warmed value awaits its first readers. */
  warmedAt = -Infinity
  /** Monotonic ms when the held value is due for refresh-ahead; Infinity when none is due. */
  refreshAt = Infinity
  failures = 0
  backoffUntil = -Infinity
  lastError: unknown = undefined
  retired = false

  constructor(
    readonly key: string,
    /** The arguments the key was first read with, for refreshes and reloads. */
    readonly args: unknown,
    readonly owner: SlotOwner,
    /** The scope the key belongs to; undefined for the one unscoped entry everyone else reads. */
    readonly scope?: Scope,
  ) {}

  /** For a scope's view: the unscoped entry the held view was derived from. */
  viewOf: StoredEntry<V> | undefined = undefined
  /**
   * For an unscoped key: the views derived from it, by `Scope.index`. A view counts only while
   * its `viewOf` is the key's current entry (a replaced entry takes its views with it) and its
   * scope is the reader's (an index is reused once its scope is forgotten).
   */
  views: Array<StoredEntry<V> | undefined> | undefined = undefined
}

/** Stands for the value of an entry stored from its JSON alone (`Serialized`): parsed when first read. */
const UNPARSED: unique symbol = Symbol('unparsed')
const parsedValues = new WeakMap<StoredEntry<unknown>, unknown>()

/** The object the memory layer holds: a `CacheEntry` plus what the hot path needs beside it. */
export class StoredEntry<V> implements CacheEntry<V> {
  /** The answer of `read()` on a hit, made once so that a hit allocates nothing. */
  readonly hitRead: Promise<CacheRead<V>>

  /** An entry of a value its loader serialized: the scope's ETag (if any) is the only work left. */
  static fromSerialized<V>(
    loaded: Serialized<V>,
    loadedAt: number,
    fetchedAt: number,
    slot: KeySlot<V>,
  ): StoredEntry<V> {
    const etag = slot.scope === undefined ? loaded.etag : etagOf(loaded.json, slot.scope.id)
    return new StoredEntry<V>(UNPARSED, loaded.json, loadedAt, fetchedAt, slot, etag, loaded.bytes)
  }

  constructor(
    private readonly held: V | typeof UNPARSED,
    readonly json: string,
    readonly loadedAt: number,
    readonly fetchedAt: number,
    /** @internal the key's state, reached from the entry so that a hit needs one lookup */
    readonly slot: KeySlot<V>,
    // A scope's ETag names the scope: another principal's If-None-Match never matches it.
    readonly etag = etagOf(json, slot.scope?.id),
    readonly bytes = Buffer.byteLength(json),
  ) {
    this.hitRead = Promise.resolve(Object.freeze({ entry: this, outcome: 'hit' as const }))
    Object.freeze(this)
  }

  get value(): V {
    if (this.held !== UNPARSED) return this.held
    let parsed = parsedValues.get(this) as V | undefined
    if (parsed === undefined) {
      parsed = JSON.parse(this.json) as V
      parsedValues.set(this, parsed)
    }
    return parsed
  }
}
