/**
 * The health of one cache, from Komandorr's indicators: judged over a recent window of reads
 * (not the process's life), the age of the value held, and for `background_stats` when it was
 * last recomputed. Pure: the caller hands in the counters of the window and the time.
 * `docs/prometheus/alerts.yml` states the same rules over `/metrics`.
 */

/** `fair`: judged, nothing wrong, but the hit rate is between the poor and the good bound. */
export type CacheHealth = 'good' | 'fair' | 'poor' | 'idle'

/** Reads are judged over the last five minutes (the samples of the cache page reach 15). */
export const HEALTH_WINDOW_MS = 5 * 60_000
/** Fewer reads than this in the window say nothing about a hit rate. */
export const MIN_READS_TO_JUDGE = 20
/** Below this hit rate a cache is poor. */
export const POOR_HIT_RATE = 0.5
/** Above this hit rate a cache is good; watch history is read in pages and must do better. */
const GOOD_HIT_RATES: Readonly<Record<string, number>> = { plex_activities: 0.7, watch_history: 0.8 }
const DEFAULT_GOOD_HIT_RATE = 0.7
/**
 * A value kept current by Plex's notifications is refetched once its fetch is this old (live
 * stats, the longest); a value in demand older than twice this, or twice its TTL, is not being
 * refreshed.
 */
export const PUSHED_REFETCH_MS = 5 * 60_000

export const goodHitRateOf = (cache: string): number => GOOD_HIT_RATES[cache] ?? DEFAULT_GOOD_HIT_RATE

/** Read outcomes and loader failures within the window (differences of the cumulative counters). */
export interface ReadWindow {
  /** How much time the counters cover: the window, or less on a young process. */
  readonly spanMs: number
  readonly hits: number
  /** Reads that waited on a load of their own. */
  readonly misses: number
  /** Reads answered with an expired value. */
  readonly stale: number
  /** Reads that waited on another read's load. */
  readonly coalesced: number
  readonly loadErrors: number
}

export interface BackgroundUpdates {
  /** The job runs on this instance (with Redis, only the leader's does). */
  readonly enabled: boolean
  /** Epoch ms of the last recomputation, null before the first. */
  readonly lastUpdateMs: number | null
  readonly intervalMs: number
  /** Epoch ms since when the job could have run (the process start). */
  readonly sinceMs: number
}

export interface CacheHealthInput {
  readonly name: string
  readonly ttlMs: number
  /** Age of the youngest value held, null when nothing is held. */
  readonly ageMs: number | null
  /** Keys held (a keyed cache misses once per key and TTL at least). */
  readonly entries: number
  readonly window: ReadWindow
  /** `background_stats` only. */
  readonly background?: BackgroundUpdates
}

export interface CacheHealthVerdict {
  readonly health: CacheHealth
  readonly reason: string
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`
const minutes = (ms: number) => `${Math.max(1, Math.round(ms / 60_000))} min`

/** The verdict at `nowMs` (epoch ms); every poor finding is named in the reason. */
export function judgeCacheHealth(input: CacheHealthInput, nowMs: number): CacheHealthVerdict {
  const { window } = input
  const over = `over the last ${minutes(window.spanMs)}`
  const reads = window.hits + window.misses + window.stale + window.coalesced
  const poor: string[] = []

  const background = input.background
  if (background?.enabled) {
    const since = background.lastUpdateMs ?? background.sinceMs
    const silentMs = nowMs - since
    if (silentMs > 2 * background.intervalMs)
      poor.push(
        background.lastUpdateMs === null
          ? `not computed in the ${seconds(silentMs)} since start; it updates every ${seconds(background.intervalMs)}`
          : `last updated ${seconds(silentMs)} ago; it updates every ${seconds(background.intervalMs)}`,
      )
  }
  if (window.loadErrors > 0)
    poor.push(
      `${window.loadErrors} failed load${window.loadErrors === 1 ? '' : 's'} ${over}` +
        (window.stale > 0 ? `, ${window.stale} read${window.stale === 1 ? '' : 's'} answered stale` : ''),
    )

  if (reads < MIN_READS_TO_JUDGE) {
    if (poor.length > 0) return { health: 'poor', reason: poor.join('; ') }
    return {
      health: 'idle',
      reason: `${reads} read${reads === 1 ? '' : 's'} ${over}: fewer than ${MIN_READS_TO_JUDGE} to judge`,
    }
  }

  const hitRate = window.hits / reads
  if (hitRate < POOR_HIT_RATE) poor.push(`hit rate ${percent(hitRate)} ${over}, below ${percent(POOR_HIT_RATE)}`)
  // One miss per key per TTL is a value that expired between two readers; more means reads in a
  // row keep finding nothing (refresh-ahead does not keep up, or values leave memory early).
  const expectedMisses = Math.max(1, input.entries) * (Math.ceil(window.spanMs / input.ttlMs) + 1)
  if (window.misses > expectedMisses)
    poor.push(`${window.misses} misses ${over}, more than one per key and TTL (${expectedMisses})`)
  const freshForMs = Math.max(input.ttlMs, PUSHED_REFETCH_MS)
  if (input.ageMs !== null && input.ageMs > 2 * freshForMs)
    poor.push(`the value held is ${seconds(input.ageMs)} old while read, more than ${seconds(2 * freshForMs)}`)

  if (poor.length > 0) return { health: 'poor', reason: poor.join('; ') }
  const good = goodHitRateOf(input.name)
  if (hitRate > good) return { health: 'good', reason: `hit rate ${percent(hitRate)} ${over}, above ${percent(good)}` }
  return {
    health: 'fair',
    reason: `hit rate ${percent(hitRate)} ${over}: not below ${percent(POOR_HIT_RATE)}, not above ${percent(good)}`,
  }
}
