import { messageOf, serialize, Serialized } from './entry.js'
import { CacheClosedError, LoaderTimeoutError } from './errors.js'
import type { CacheSetup } from './setup.js'
import type { CacheDeclaration } from './policy.js'
import { StoredEntry, type KeySlot } from './slot.js'
import { LoadTimeRing } from './stats.js'

/**
 * Loader calls of one cache: each bounded by `loadTimeoutMs` (its signal aborts past it), timed,
 * its value serialized once (a value without JSON is the loader's error), and after a failure the
 * key's backoff step (`backoffBaseMs` doubling up to `backoffMaxMs`, reset by a success).
 */
export class LoaderRunner<V, A> {
  /** Epoch ms of the last successful fetch. */
  lastFetchedAt: number | null = null
  /** The last loader error, cleared by a success. */
  lastError: string | null = null
  /** The durations of the last 1024 loader calls. */
  readonly loadTimes = new LoadTimeRing()
  /** Loader calls in flight, each with the function that abandons it. */
  private readonly active = new Set<(error: Error) => void>()

  constructor(
    private readonly setup: CacheSetup<A>,
    private readonly loader: CacheDeclaration<V, A>['load'],
    /** What a loaded value goes through before its waiters resume (held, shared); skipped for a retired key. */
    private readonly keep: (slot: KeySlot<V>, entry: StoredEntry<V>) => Promise<void>,
  ) {}

  /** One loader call for the key: its entry, kept; or the loader's error, with the next backoff step set. */
  async load(slot: KeySlot<V>, args: A): Promise<StoredEntry<V>> {
    const { clock, counters, name } = this.setup
    const started = clock.now()
    counters.loads++
    let entry: StoredEntry<V>
    try {
      const value = await this.call(args, slot.key)
      entry =
        value instanceof Serialized
          ? StoredEntry.fromSerialized(value, clock.now(), clock.wallNow(), slot)
          : new StoredEntry(value, serialize(value, `cache ${name} (${slot.key})`), clock.now(), clock.wallNow(), slot)
    } catch (error) {
      this.ended(started, false)
      this.failed(slot, error)
      throw error
    }
    this.ended(started, true)
    slot.failures = 0
    slot.backoffUntil = -Infinity
    slot.lastError = undefined
    this.lastFetchedAt = entry.fetchedAt
    this.lastError = null
    if (!slot.retired) await this.keep(slot, entry)
    return entry
  }

  /** Fails every call in flight with a `CacheClosedError` and aborts its signal. */
  abandonAll(): void {
    for (const abandon of [...this.active]) abandon(new CacheClosedError(this.setup.name))
  }

  private ended(started: number, ok: boolean): void {
    const ms = this.setup.clock.now() - started
    this.loadTimes.record(ms)
    this.setup.context.onLoad?.(this.setup.name, ms, ok)
  }

  /** Calls the loader; a call that outlives `loadTimeoutMs` (or the registry) fails and is aborted. */
  private call(args: A, key: string): Promise<V | Serialized<V>> {
    const { clock, name } = this.setup
    const controller = new AbortController()
    return new Promise<V | Serialized<V>>((resolve, reject) => {
      const abandon = (error: Error): void => {
        settled()
        controller.abort(error)
        reject(error)
      }
      const settled = (): void => {
        clock.clearTimer(timer)
        this.active.delete(abandon)
      }
      const timeoutMs = this.setup.policy.loadTimeoutMs
      const timer = clock.setTimer(() => abandon(new LoaderTimeoutError(name, key, timeoutMs)), timeoutMs)
      this.active.add(abandon)
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

  private failed(slot: KeySlot<V>, error: unknown): void {
    const { counters, policy } = this.setup
    counters.loadErrors++
    slot.failures++
    const stepMs = Math.min(policy.backoffBaseMs * 2 ** (slot.failures - 1), policy.backoffMaxMs)
    slot.backoffUntil = this.setup.clock.now() + stepMs
    slot.lastError = error
    this.lastError = messageOf(error)
    this.setup.logger?.info(
      { cache: this.setup.name, key: slot.key, error: this.lastError, failures: slot.failures, retryInMs: stepMs },
      'cache loader failed',
    )
  }
}
