import type { TrafficRepo, TrafficSample } from '../../db/traffic-repo.js'
import type { Clock } from '../../cache/index.js'

export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS

/** Komandorr's traffic agent divides byte counters by 1024³ to report "GB". */
export const BYTES_PER_GB = 1024 ** 3

/** What a traffic agent posts: rates in MB/s, counters in cumulative GB. */
export interface TrafficReport {
  readonly serviceId: string
  readonly bandwidthUp: number
  readonly bandwidthDown: number
  readonly totalUp: number
  readonly totalDown: number
  readonly maxBandwidth?: number | null
  readonly cpuPercent?: number | null
  readonly memoryPercent?: number | null
}

export interface TrafficTotals {
  readonly downloadBytes: number
  readonly uploadBytes: number
  readonly totalBytes: number
}

export interface TrafficLogOptions {
  readonly repo: TrafficRepo
  readonly clock: Clock
  /** Samples older than this are deleted; longer than the longest window a total is asked for. */
  readonly retentionMs?: number
}

export type TrafficLog = ReturnType<typeof createTrafficLog>

/** Stores agent reports and answers "how many bytes moved in the last N" for the dashboard. */
export function createTrafficLog({ repo, clock, retentionMs = 31 * DAY_MS }: TrafficLogOptions) {
  let lastPruneAt = Number.NEGATIVE_INFINITY
  const listeners = new Set<(sample: TrafficSample) => void>()

  return {
    async record(report: TrafficReport): Promise<TrafficSample> {
      const sample: TrafficSample = {
        serviceId: report.serviceId,
        at: clock.wallNow(),
        bandwidthUp: report.bandwidthUp,
        bandwidthDown: report.bandwidthDown,
        totalUp: report.totalUp,
        totalDown: report.totalDown,
        maxBandwidth: report.maxBandwidth ?? null,
        cpuPercent: report.cpuPercent ?? null,
        memoryPercent: report.memoryPercent ?? null,
      }
      await repo.insert(sample)
      // Agents report every few seconds: prune at most hourly, not on every report.
      if (sample.at - lastPruneAt >= HOUR_MS) {
        lastPruneAt = sample.at
        await repo.pruneBefore(sample.at - retentionMs)
      }
      for (const listener of listeners) listener(sample)
      return sample
    },

    /** Calls `listener` after each stored report (on this instance); returns the unsubscribe. */
    onRecord(listener: (sample: TrafficSample) => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },

    /**
     * Bytes moved in the window ending now, over all services: the sum of the positive steps of
     * each agent's cumulative counters between samples inside the window. A drop (agent
     * restart) is a reset, not negative traffic.
     */
    async totals(windowMs: number): Promise<TrafficTotals> {
      const now = clock.wallNow()
      const { upGb, downGb } = await repo.positiveDeltaSums(now - windowMs, now)
      const uploadBytes = Math.round(upGb * BYTES_PER_GB)
      const downloadBytes = Math.round(downGb * BYTES_PER_GB)
      return { downloadBytes, uploadBytes, totalBytes: uploadBytes + downloadBytes }
    },

    latest: (serviceId: string): Promise<TrafficSample | undefined> => repo.latest(serviceId),
    latestPerService: (): Promise<Map<string, TrafficSample>> => repo.latestPerService(),
    recent: (serviceId: string, limit: number): Promise<TrafficSample[]> => repo.recent(serviceId, limit),
  }
}
