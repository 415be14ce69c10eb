// Plex calls, as the simulator counted them: a timeline of its request counters, and which
// cache each call was made for.
import type { RunningSimulator } from '../../sim/index.js'

export type Counts = Readonly<Record<string, number>>

/**
 * Which Plex endpoints each polled cache's loader calls. `/status/sessions` serves both the
 * activities loader (with `/activities`, one each per load) and the sessions loader, so the
 * sessions share is what the activities loads did not take.
 */
export const PLEX_CALLS_OF_CACHE: Readonly<Record<string, (c: Counts) => number>> = {
  plex_activities: (c) => 2 * n(c, '/activities'),
  plex_sessions: (c) => Math.max(0, n(c, '/status/sessions') - n(c, '/activities')) + n(c, '/library/metadata/:ids'),
  plex_stats_live: (c) => n(c, '/accounts') + n(c, '/library/sections') + n(c, '/library/sections/:id/all'),
  plex_users_count: (c) => n(c, '/identity') + n(c, '/api/servers/:id/shared_servers'),
}

const n = (c: Counts, endpoint: string) => c[endpoint] ?? 0

export const totalOf = (c: Counts) => Object.values(c).reduce((sum, v) => sum + v, 0)

export function difference(later: Counts, earlier: Counts): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [endpoint, count] of Object.entries(later)) {
    const d = count - (earlier[endpoint] ?? 0)
    if (d !== 0) out[endpoint] = d
  }
  return out
}

/** The simulator's counters sampled every few ms, to tell how many calls fell in any span. */
export class PlexCallTimeline {
  private readonly samples: Array<{ at: number; counts: Counts }> = []
  private readonly timer: NodeJS.Timeout
  private lastTotal = -1

  constructor(
    private readonly sim: RunningSimulator,
    everyMs = 50,
  ) {
    this.sample()
    this.timer = setInterval(() => this.sample(), everyMs)
    this.timer.unref()
  }

  /** Takes a sample now (only kept when a count moved). */
  sample(): void {
    const total = this.sim.control.totalRequests()
    if (total === this.lastTotal) return
    this.lastTotal = total
    this.samples.push({ at: performance.now(), counts: this.sim.control.requestCounts() })
  }

  stop(): void {
    clearInterval(this.timer)
    this.sample()
  }

  /** The counters as of performance.now() time `at`. */
  countsAt(at: number): Counts {
    let found: Counts = {}
    for (const s of this.samples) {
      if (s.at > at) break
      found = s.counts
    }
    return found
  }

  /** Calls made after `from` and up to `to` (performance.now() times). */
  between(from: number, to: number): Record<string, number> {
    return difference(this.countsAt(to), this.countsAt(from))
  }

  /** performance.now() of the last sample whose counters moved after `from`, or undefined. */
  lastCallAfter(from: number): number | undefined {
    const last = this.samples.at(-1)
    return last !== undefined && last.at > from && totalOf(this.between(from, last.at)) > 0 ? last.at : undefined
  }
}
