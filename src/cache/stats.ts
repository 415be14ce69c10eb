/**
 * The raw counters of one cache: plain integers, bumped on the hot path, summable across
 * instances. `entries` and `bytes` are state (what is held now); the rest is history since
 * start or the last `resetStats()`.
 */
export class CacheCounters {
  /** Reads answered with a fresh value without waiting on the upstream. */
  hits = 0
  /**
   * Reads that found no fresh value and did not join a load: they started one, or got the held
   * value during backoff or while a load of the key was in flight.
   */
  misses = 0
  /** Reads that found a load of their key in flight and waited on it. */
  coalesced = 0
  /**
   * Reads answered with an expired value (subset of misses + coalesced): the upstream failed,
   * or a load of the key outlasted the soft timeout while the value was held.
   */
  staleServes = 0
  /** Coalesced reads answered with an expired value (part of `coalesced` and of `staleServes`). */
  staleCoalesced = 0
  /** Reads that started a load which went past the shared layer to the loader (part of `misses`). */
  upstreamReads = 0
  /** Values taken from the shared layer instead of the loader. */
  sharedHits = 0
  /** Loads started without a waiting reader: refresh-ahead, reload and refresh. */
  refreshes = 0
  /** The part of `refreshes` asked for by the upstream (`refresh`: a push notification). */
  pushRefreshes = 0
  /** The part of `refreshes` started by `reload` (warm, scheduled recomputations) or `warm` (the warm start). */
  warmRefreshes = 0
  /** Loader calls. */
  loads = 0
  /** Loader calls that failed (threw, timed out, or returned a value without JSON). */
  loadErrors = 0
  /** Entries pushed out by the byte budget. */
  evictions = 0
  /** Values not held because they alone exceed the byte budget. */
  oversized = 0
  /** Entries held in memory (fresh or kept for stale serving). */
  entries = 0
  /** Bytes held in memory (UTF-8 JSON). */
  bytes = 0
}

export type CounterValues = { -readonly [K in keyof CacheCounters]: number }

/** Reads split without overlap (they sum to hits + misses + coalesced), and the reads that cost no loader call. */
export interface ReadOutcomes {
  readonly hit: number
  /** Waited on a load of their own (or got nothing during backoff). */
  readonly miss: number
  /** Answered with an expired value. */
  readonly stale: number
  /** Waited on another read's load and got a fresh value. */
  readonly coalesced: number
  /** Reads answered without a loader call of their own. */
  readonly upstreamCallsSaved: number
}

export function readOutcomes(c: Readonly<CounterValues>): ReadOutcomes {
  return {
    hit: c.hits,
    miss: c.misses - (c.staleServes - c.staleCoalesced),
    stale: c.staleServes,
    coalesced: c.coalesced - c.staleCoalesced,
    upstreamCallsSaved: c.hits + c.misses + c.coalesced - c.upstreamReads,
  }
}

const RING_SIZE = 1024

/** The durations of the last 1024 loader calls. */
export class LoadTimeRing {
  private readonly samples = new Float64Array(RING_SIZE)
  private next = 0
  private count = 0

  record(ms: number): void {
    this.samples[this.next] = ms
    this.next = (this.next + 1) % RING_SIZE
    if (this.count < RING_SIZE) this.count++
  }

  values(): number[] {
    return Array.from(this.samples.subarray(0, this.count))
  }

  clear(): void {
    this.next = 0
    this.count = 0
  }
}

export interface LoadPercentiles {
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly samples: number
}

/** Nearest-rank percentiles; also for samples merged from several instances. */
export function percentiles(samples: readonly number[]): LoadPercentiles | null {
  if (samples.length === 0) return null
  const sorted = Float64Array.from(samples).sort()
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0
  return { p50: rank(0.5), p95: rank(0.95), p99: rank(0.99), samples: sorted.length }
}

/** A snapshot of one cache, computed when asked. */
export interface CacheStats extends CounterValues {
  readonly name: string
  readonly key: string
  readonly ttlMs: number
  readonly maxStaleMs: number
  readonly refreshAhead: boolean
  readonly shared: boolean
  /** hits + misses + coalesced */
  readonly requests: number
  /** hits / requests, 0 without requests */
  readonly hitRate: number
  /** Loader latency over the last 1024 calls, null before the first. */
  readonly loadMs: LoadPercentiles | null
  /** Epoch ms of the last successful upstream fetch. */
  readonly lastFetchedAt: number | null
  /** The last loader error, cleared by the next success. */
  readonly lastError: string | null
  /** Age of the youngest value held, null when nothing is held. */
  readonly ageMs: number | null
}
