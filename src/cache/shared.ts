import type { Clock } from './clock.js'

export interface SharedValue {
  readonly json: string
  /** Epoch ms of the upstream fetch, kept across instances for display. */
  readonly fetchedAt: number
}

export interface SharedHit extends SharedValue {
  /** Age as the shared store measures it (e.g. from Redis PTTL), never from wall clocks of two hosts. */
  readonly ageMs: number
}

/** A keyed cache's share of the shared layer: its keys all start with `group`. */
export interface SharedBound {
  readonly group: string
  readonly maxKeys: number
  readonly maxBytes: number
}

/**
 * The second tier, shared by every instance (Redis in production). Keys are full cache keys
 * (`plex:watch_history:limit=5`); the implementation adds its own namespace prefix.
 * It never throws: on trouble `get` resolves undefined, `set` does nothing, `delete` and
 * `clear` resolve false.
 */
export interface SharedLayer {
  get(key: string): Promise<SharedHit | undefined>
  /**
   * Keeps the value for `ttlMs` fresh plus `staleMs` for stale serving, then drops it. With a
   * `bound`, the group's keys soonest to expire are dropped until it holds at most `maxKeys`
   * keys and `maxBytes` bytes (as stored).
   */
  set(key: string, value: SharedValue, ttlMs: number, staleMs: number, bound?: SharedBound): Promise<void>
  delete(keys: readonly string[]): Promise<boolean>
  /** Deletes every key that starts with `prefix`. */
  clear(prefix: string): Promise<boolean>
}

interface StoredShared extends SharedValue {
  readonly storedAt: number
  readonly dropAt: number
}

/** A shared layer in process memory: for tests, and for several registries of one process. */
export class MemorySharedLayer implements SharedLayer {
  private readonly values = new Map<string, StoredShared>()

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.values.size
  }

  async get(key: string): Promise<SharedHit | undefined> {
    const stored = this.values.get(key)
    if (stored === undefined) return undefined
    const now = this.clock.now()
    if (now >= stored.dropAt) {
      this.values.delete(key)
      return undefined
    }
    return { json: stored.json, fetchedAt: stored.fetchedAt, ageMs: now - stored.storedAt }
  }

  async set(key: string, value: SharedValue, ttlMs: number, staleMs: number, bound?: SharedBound): Promise<void> {
    const now = this.clock.now()
    this.values.delete(key)
    this.values.set(key, { json: value.json, fetchedAt: value.fetchedAt, storedAt: now, dropAt: now + ttlMs + staleMs })
    if (bound !== undefined) this.enforce(bound, now)
  }

  private enforce(bound: SharedBound, now: number): void {
    const group = [...this.values].filter(([key, stored]) => key.startsWith(bound.group) && now < stored.dropAt)
    group.sort(([, a], [, b]) => a.dropAt - b.dropAt)
    let bytes = group.reduce((sum, [, stored]) => sum + Buffer.byteLength(stored.json), 0)
    let keys = group.length
    for (const [key, stored] of group) {
      if (keys <= bound.maxKeys && bytes <= bound.maxBytes) break
      this.values.delete(key)
      keys--
      bytes -= Buffer.byteLength(stored.json)
    }
  }

  async delete(keys: readonly string[]): Promise<boolean> {
    for (const key of keys) this.values.delete(key)
    return true
  }

  async clear(prefix: string): Promise<boolean> {
    for (const key of [...this.values.keys()]) if (key.startsWith(prefix)) this.values.delete(key)
    return true
  }
}
