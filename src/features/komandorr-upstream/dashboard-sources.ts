import type { Clock } from '../../cache/index.js'
import type { StatusCounts } from '../monitored-services/types.js'
import { BYTES_PER_GB, type TrafficTotals } from '../traffic/traffic-log.js'
import { servicesCache, trafficSummaryCache } from '../caches/komandorr-caches.js'
import type { KomandorrUpstream } from './index.js'

interface TrafficPoint {
  readonly timestamp?: unknown
  readonly total_up?: unknown
  readonly total_down?: unknown
}

/**
 * In front of Komandorr the services and their traffic are Komandorr's: the dashboard stats
 * (`background_stats`) count them from Komandorr's services list and traffic summary, read
 * through their caches (so the stats cost Komandorr nothing the tabs do not already cost).
 */
export function komandorrDashboardSources(komandorr: KomandorrUpstream, clock: Clock) {
  const read = async (spec: typeof servicesCache): Promise<unknown> =>
    JSON.parse((await komandorr.cacheOf(spec).read()).entry.value.body) as unknown
  return {
    services: {
      async countByStatus(): Promise<StatusCounts> {
        const services = await read(servicesCache)
        const list = Array.isArray(services) ? (services as Array<{ status?: unknown }>) : []
        const count = (status: string) => list.filter((service) => service.status === status).length
        return { total: list.length, online: count('online'), offline: count('offline'), problem: count('problem') }
      },
    },
    traffic: {
      /** Komandorr's agents report cumulative GB: the sum of positive deltas inside the window of each service's history. */
      async totals(windowMs: number): Promise<TrafficTotals> {
        const summary = (await read(trafficSummaryCache)) as { services?: Array<{ traffic_history?: unknown }> }
        const since = clock.wallNow() - windowMs
        let upGb = 0
        let downGb = 0
        for (const service of Array.isArray(summary?.services) ? summary.services : []) {
          const points = Array.isArray(service.traffic_history) ? (service.traffic_history as TrafficPoint[]) : []
          let previous: { up: number; down: number } | undefined
          for (const point of points) {
            const at = timeOf(point.timestamp)
            const up = Number(point.total_up)
            const down = Number(point.total_down)
            if (!Number.isFinite(at) || !Number.isFinite(up) || !Number.isFinite(down)) continue
            if (previous !== undefined && at >= since) {
              upGb += Math.max(0, up - previous.up)
              downGb += Math.max(0, down - previous.down)
            }
            previous = { up, down }
          }
        }
        const uploadBytes = Math.round(upGb * BYTES_PER_GB)
        const downloadBytes = Math.round(downGb * BYTES_PER_GB)
        return { uploadBytes, downloadBytes, totalBytes: uploadBytes + downloadBytes }
      },
    },
  }
}

/** Komandorr writes naive UTC datetimes (`2026-12-07T10:00:00.123456`): read them as UTC. */
function timeOf(value: unknown): number {
  if (typeof value !== 'string') return NaN
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`)
}
