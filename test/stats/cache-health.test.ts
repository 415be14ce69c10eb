import { describe, expect, it } from 'vitest'
import {
  HEALTH_WINDOW_MS,
  judgeCacheHealth,
  type CacheHealthInput,
  type ReadWindow,
} from '../../src/features/stats/cache-health.js'

const NOW = Date.UTC(2026, 11, 8, 12, 0, 0)
const window = (reads: Partial<ReadWindow>): ReadWindow => ({
  spanMs: HEALTH_WINDOW_MS,
  hits: 0,
  misses: 0,
  stale: 0,
  coalesced: 0,
  loadErrors: 0,
  ...reads,
})
const cache = (name: string, reads: Partial<ReadWindow>, more: Partial<CacheHealthInput> = {}): CacheHealthInput => ({
  name,
  ttlMs: 10_000,
  ageMs: 2_000,
  entries: 1,
  window: window(reads),
  ...more,
})

describe('cache health', () => {
  it('is idle with fewer than 20 reads in the window, whatever their hit rate', () => {
    expect(judgeCacheHealth(cache('plex_sessions', { hits: 0, misses: 19 }), NOW)).toEqual({
      health: 'idle',
      reason: '19 reads over the last 5 min: fewer than 20 to judge',
    })
    expect(judgeCacheHealth(cache('plex_sessions', { hits: 1, misses: 19 }), NOW).health).toBe('poor')
  })

  it('holds activities to 70 % and watch history to 80 %', () => {
    const at75 = { hits: 75, misses: 5, coalesced: 20 }
    expect(judgeCacheHealth(cache('plex_activities', at75), NOW)).toEqual({
      health: 'good',
      reason: 'hit rate 75.0 % over the last 5 min, above 70.0 %',
    })
    const history = judgeCacheHealth(cache('watch_history', at75, { ttlMs: 300_000, entries: 20 }), NOW)
    expect(history.health).toBe('fair')
    expect(history.reason).toContain('not above 80.0 %')
    expect(judgeCacheHealth(cache('watch_history', { hits: 81, misses: 19 }, { entries: 20 }), NOW).health).toBe('good')
  })

  it('is poor below a 50 % hit rate, and fair between that and the good bound', () => {
    const poor = judgeCacheHealth(cache('plex_sessions', { hits: 49, coalesced: 51 }), NOW)
    expect(poor).toEqual({ health: 'poor', reason: 'hit rate 49.0 % over the last 5 min, below 50.0 %' })
    expect(judgeCacheHealth(cache('plex_sessions', { hits: 50, coalesced: 50 }), NOW).health).toBe('fair')
  })

  it('is poor when reads in a row keep missing: more than one miss per key and TTL', () => {
    // 5 min at a 10 s TTL: 31 misses of one key can be values expiring between readers; 40 cannot.
    expect(judgeCacheHealth(cache('plex_sessions', { hits: 200, misses: 31 }), NOW).health).toBe('good')
    expect(judgeCacheHealth(cache('plex_sessions', { hits: 200, misses: 40 }), NOW)).toEqual({
      health: 'poor',
      reason: '40 misses over the last 5 min, more than one per key and TTL (31)',
    })
    // Three keys held: three times the misses are expected.
    expect(judgeCacheHealth(cache('plex_sessions', { hits: 200, misses: 40 }, { entries: 3 }), NOW).health).toBe('good')
  })

  it('is poor after failed loads in the window, naming the stale answers, even with few reads', () => {
    expect(judgeCacheHealth(cache('plex_sessions', { hits: 2, stale: 3, loadErrors: 2 }), NOW)).toEqual({
      health: 'poor',
      reason: '2 failed loads over the last 5 min, 3 reads answered stale',
    })
    expect(judgeCacheHealth(cache('plex_sessions', { hits: 300, loadErrors: 1 }), NOW).reason).toBe(
      '1 failed load over the last 5 min',
    )
  })

  it('is poor when the value read is far older than its TTL or refetch window', () => {
    const reads = { hits: 100 }
    expect(judgeCacheHealth(cache('plex_stats_live', reads, { ttlMs: 30_000, ageMs: 590_000 }), NOW).health).toBe(
      'good',
    )
    expect(judgeCacheHealth(cache('plex_stats_live', reads, { ttlMs: 30_000, ageMs: 601_000 }), NOW)).toEqual({
      health: 'poor',
      reason: 'the value held is 601 s old while read, more than 600 s',
    })
    // Nobody reads it: an old value is what an idle cache holds.
    expect(judgeCacheHealth(cache('plex_stats_live', {}, { ageMs: 3_600_000 }), NOW).health).toBe('idle')
  })

  it('judges background stats by their last update against the interval, on the clock it is given', () => {
    const background = { enabled: true, lastUpdateMs: NOW - 60_000, intervalMs: 60_000, sinceMs: NOW - 3_600_000 }
    const input = cache('background_stats', { hits: 100 }, { ttlMs: 60_000, background })
    expect(judgeCacheHealth(input, NOW).health).toBe('good')
    expect(judgeCacheHealth(input, NOW + 60_000).health).toBe('good')
    expect(judgeCacheHealth(input, NOW + 61_000)).toEqual({
      health: 'poor',
      reason: 'last updated 121 s ago; it updates every 60 s',
    })
    // Never computed: counted from the start, and judged even without readers.
    const never = { ...background, lastUpdateMs: null, sinceMs: NOW - 150_000 }
    expect(judgeCacheHealth(cache('background_stats', {}, { background: never }), NOW)).toEqual({
      health: 'poor',
      reason: 'not computed in the 150 s since start; it updates every 60 s',
    })
    // Another instance runs the job: nothing to judge here.
    const elsewhere = { ...never, enabled: false }
    expect(judgeCacheHealth(cache('background_stats', {}, { background: elsewhere }), NOW).health).toBe('idle')
  })

  it('names every poor finding at once', () => {
    const verdict = judgeCacheHealth(
      cache('plex_sessions', { hits: 10, misses: 90, loadErrors: 1 }, { ageMs: 700_000 }),
      NOW,
    )
    expect(verdict.health).toBe('poor')
    expect(verdict.reason.split('; ')).toHaveLength(4)
  })

  it('says how long a young process has been watched', () => {
    const young = cache('plex_sessions', { hits: 1 }, { window: window({ spanMs: 90_000, hits: 1 }) })
    expect(judgeCacheHealth(young, NOW).reason).toBe('1 read over the last 2 min: fewer than 20 to judge')
  })
})
