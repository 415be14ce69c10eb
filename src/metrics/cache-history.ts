import { readOutcomes, type AnyCache, type Clock, type TimerHandle } from '../cache/index.js'

/** What each sample keeps of each cache: counters since start (the page takes differences) and state. */
export const HISTORY_FIELDS = [
  'hits',
  'misses',
  'stale',
  'coalesced',
  'loads',
  'load_errors',
  'saved',
  'entries',
  'bytes',
  'age_ms',
  'load_p95_ms',
] as const
export type HistoryField = (typeof HISTORY_FIELDS)[number]

export interface CacheHistoryOptions {
  readonly clock: Clock
  readonly caches: () => readonly AnyCache[]
  /** 1 when Redis is in use, 0 when configured but not in use; undefined without Redis. */
  readonly redisInUse?: () => number
  /** Default 5 s. */
  readonly intervalMs?: number
  /** Default 15 min. */
  readonly windowMs?: number
}

/** The samples newer than a time, column by column (null where a cache did not exist yet or held nothing). */
export interface HistoryView {
  interval_ms: number
  window_ms: number
  /** Epoch ms of each sample. */
  times: number[]
  /** Per sample: 1 Redis in use, 0 not in use, null without Redis. */
  redis: Array<number | null>
  caches: Record<string, Record<HistoryField, Array<number | null>>>
}

/**
 * A fixed ring of samples of every cache's counters, taken every `intervalMs` on the clock, for
 * the live plots of `/cache`: the memory is bounded (window ÷ interval samples per field), and a
 * request only copies what is already there.
 */
export class CacheHistory {
  readonly intervalMs: number
  readonly windowMs: number
  private readonly capacity: number
  private readonly times: Float64Array
  private readonly redis: Float64Array
  private readonly columns = new Map<string, Float64Array[]>()
  /** Samples taken so far (the newest is at `(taken - 1) % capacity`). */
  private taken = 0
  private timer: TimerHandle | undefined
  private stopped = false

  constructor(private readonly options: CacheHistoryOptions) {
    this.intervalMs = options.intervalMs ?? 5_000
    this.windowMs = options.windowMs ?? 15 * 60_000
    this.capacity = Math.max(2, Math.ceil(this.windowMs / this.intervalMs))
    this.times = new Float64Array(this.capacity)
    this.redis = new Float64Array(this.capacity)
  }

  /** Samples now, then every interval until `stop`. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return
    const tick = (): void => {
      this.sample()
      if (!this.stopped) this.timer = this.options.clock.setTimer(tick, this.intervalMs)
    }
    tick()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer)
    this.timer = undefined
  }

  sample(): void {
    const slot = this.taken % this.capacity
    this.times[slot] = this.options.clock.wallNow()
    this.redis[slot] = this.options.redisInUse?.() ?? NaN
    const seen = new Set<string>()
    for (const cache of this.options.caches()) {
      seen.add(cache.name)
      const columns = this.columnsOf(cache.name)
      const c = cache.counters
      const stats = cache.stats()
      const reads = readOutcomes(c)
      const values: Record<HistoryField, number> = {
        hits: reads.hit,
        misses: reads.miss,
        stale: reads.stale,
        coalesced: reads.coalesced,
        loads: c.loads,
        load_errors: c.loadErrors,
        saved: reads.upstreamCallsSaved,
        entries: c.entries,
        bytes: c.bytes,
        age_ms: stats.ageMs ?? NaN,
        load_p95_ms: stats.loadMs?.p95 ?? NaN,
      }
      HISTORY_FIELDS.forEach((field, i) => (columns[i]![slot] = values[field]))
    }
    for (const [name, columns] of this.columns) if (!seen.has(name)) for (const column of columns) column[slot] = NaN
    this.taken++
  }

  /** Samples taken after `afterMs` (epoch ms), oldest first; all of them when omitted. */
  view(afterMs = -Infinity): HistoryView {
    const count = Math.min(this.taken, this.capacity)
    const first = this.taken - count
    const slots: number[] = []
    for (let n = first; n < this.taken; n++) {
      const slot = n % this.capacity
      if (this.times[slot]! > afterMs) slots.push(slot)
    }
    const numberOrNull = (v: number) => (Number.isNaN(v) ? null : v)
    const caches: HistoryView['caches'] = {}
    for (const [name, columns] of this.columns) {
      const entry = {} as Record<HistoryField, Array<number | null>>
      HISTORY_FIELDS.forEach((field, i) => (entry[field] = slots.map((slot) => numberOrNull(columns[i]![slot]!))))
      caches[name] = entry
    }
    return {
      interval_ms: this.intervalMs,
      window_ms: this.windowMs,
      times: slots.map((slot) => this.times[slot]!),
      redis: slots.map((slot) => numberOrNull(this.redis[slot]!)),
      caches,
    }
  }

  /**
   * The oldest sample taken at or after `sinceMs` (epoch ms): its time and each cache's counters
   * then, from which the counters now give a window; undefined when there is none.
   */
  sampleSince(sinceMs: number): { atMs: number; caches: Map<string, Record<HistoryField, number>> } | undefined {
    const count = Math.min(this.taken, this.capacity)
    for (let n = this.taken - count; n < this.taken; n++) {
      const slot = n % this.capacity
      if (this.times[slot]! < sinceMs) continue
      const caches = new Map<string, Record<HistoryField, number>>()
      for (const [name, columns] of this.columns) {
        const entry = {} as Record<HistoryField, number>
        HISTORY_FIELDS.forEach((field, i) => (entry[field] = columns[i]![slot]!))
        caches.set(name, entry)
      }
      return { atMs: this.times[slot]!, caches }
    }
    return undefined
  }

  private columnsOf(name: string): Float64Array[] {
    let columns = this.columns.get(name)
    if (columns === undefined) {
      columns = HISTORY_FIELDS.map(() => new Float64Array(this.capacity).fill(NaN))
      this.columns.set(name, columns)
    }
    return columns
  }
}
