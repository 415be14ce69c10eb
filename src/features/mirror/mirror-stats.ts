import { Counter, Histogram, type Registry } from 'prom-client'
import { PATTERN_NAMES } from './routes.js'

/** How the mirror answered: from a cache (hit, miss, coalesced, stale), PMS's own error replayed, its own 502, or passed through. */
export type MirrorAnswer = 'hit' | 'miss' | 'coalesced' | 'stale' | 'pms_error' | 'error' | 'pass' | 'fan_out'

const ANSWERS: readonly MirrorAnswer[] = ['hit', 'miss', 'coalesced', 'stale', 'pms_error', 'error', 'pass', 'fan_out']

export type PatternCounts = Record<MirrorAnswer, number>

/**
 * Requests per mirrored path pattern and answer, in memory (the /cache page) and, with metrics
 * on, as `komandorr_mirror_requests_total{pattern,answer}` and
 * `komandorr_mirror_request_duration_seconds{pattern}` (time to the answer's headers). Labels come
 * from the fixed pattern list only: never a path, query or token.
 */
export class MirrorStats {
  private readonly counts = new Map<string, PatternCounts>()
  private readonly requests: Counter<'pattern' | 'answer'> | undefined
  private readonly duration: Histogram<'pattern'> | undefined

  constructor(registry?: Registry) {
    for (const name of PATTERN_NAMES)
      this.counts.set(name, Object.fromEntries(ANSWERS.map((a) => [a, 0])) as PatternCounts)
    if (registry === undefined) return
    this.requests = new Counter({
      name: 'komandorr_mirror_requests_total',
      help: 'Requests to the PMS mirror (PLEX_PROXY_PORT) by path pattern and how they were answered',
      labelNames: ['pattern', 'answer'],
      registers: [registry],
    })
    this.duration = new Histogram({
      name: 'komandorr_mirror_request_duration_seconds',
      help: 'Time from a mirror request to its answer headers, by path pattern',
      labelNames: ['pattern'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    })
  }

  count(pattern: string, answer: MirrorAnswer, startedAt: number): void {
    const counts = this.counts.get(pattern)
    if (counts !== undefined) counts[answer]++
    this.requests?.inc({ pattern, answer })
    this.duration?.observe({ pattern }, (performance.now() - startedAt) / 1000)
  }

  /** Patterns with at least one request, and their counts. */
  snapshot(): Array<{ pattern: string } & PatternCounts> {
    return [...this.counts]
      .filter(([, counts]) => ANSWERS.some((a) => counts[a] > 0))
      .map(([pattern, counts]) => ({ pattern, ...counts }))
  }
}
