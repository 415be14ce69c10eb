/**
 * Storage reports of Komandorr's storage agent (`POST /api/storage/update`), kept in this
 * instance's memory: the newest report and the last 100 history points per service, for services
 * that exist (a report for an unknown service is refused), so it is bounded by the services.
 */
export interface StoragePath {
  readonly path: string
  /** GB. */
  readonly total: number
  readonly used: number
  readonly free: number
  readonly percent: number
}

interface WithStatus {
  readonly status: string
}

export interface StorageReport {
  readonly service_id: string
  readonly hostname: string
  readonly storage_paths: readonly StoragePath[]
  readonly raid_arrays?: readonly WithStatus[]
  readonly zfs_pools?: readonly WithStatus[]
  readonly disks?: readonly unknown[]
}

export const STORAGE_HISTORY_POINTS = 100

const round2 = (value: number) => Math.round(value * 100) / 100
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0)
const isProblem = (status: string) => status !== 'healthy' && status !== 'degraded' && status !== 'recovering'

/** Komandorr's `StorageMetrics` of one service. */
function metricsOf(report: StorageReport, at: number) {
  return {
    hostname: report.hostname,
    storage_paths: report.storage_paths,
    raid_arrays: report.raid_arrays ?? [],
    zfs_pools: report.zfs_pools ?? [],
    disks: report.disks ?? [],
    last_updated: new Date(at).toISOString(),
  }
}

type Metrics = ReturnType<typeof metricsOf>

function historyPoint(metrics: Metrics, at: number) {
  const paths = metrics.storage_paths
  const arrays = [...metrics.raid_arrays, ...metrics.zfs_pools]
  return {
    timestamp: new Date(at).toISOString(),
    hostname: metrics.hostname,
    total_capacity: round2(sum(paths.map((p) => p.total))),
    total_used: round2(sum(paths.map((p) => p.used))),
    total_free: round2(sum(paths.map((p) => p.free))),
    average_usage_percent: round2(paths.length ? sum(paths.map((p) => p.percent)) / paths.length : 0),
    raid_healthy: arrays.filter((a) => a.status === 'healthy').length,
    raid_degraded: arrays.filter((a) => a.status === 'degraded').length,
    raid_failed: arrays.filter((a) => isProblem(a.status)).length,
  }
}

export class StorageReports {
  private readonly current = new Map<string, Metrics>()
  private readonly history = new Map<string, ReturnType<typeof historyPoint>[]>()

  constructor(private readonly now: () => number) {}

  record(report: StorageReport): void {
    const at = this.now()
    const metrics = metricsOf(report, at)
    this.current.set(report.service_id, metrics)
    const points = this.history.get(report.service_id) ?? []
    points.push(historyPoint(metrics, at))
    if (points.length > STORAGE_HISTORY_POINTS) points.splice(0, points.length - STORAGE_HISTORY_POINTS)
    this.history.set(report.service_id, points)
  }

  /** Komandorr's answer for a service that has not reported: empty metrics. */
  currentOf(serviceId: string) {
    return (
      this.current.get(serviceId) ?? {
        hostname: null,
        storage_paths: [],
        raid_arrays: [],
        disks: [],
        last_updated: null,
      }
    )
  }

  historyOf(serviceId: string, limit: number) {
    return (this.history.get(serviceId) ?? []).slice(-limit)
  }

  /** `GET /api/storage/summary` over the services that exist; reports of deleted ones are dropped. */
  summary(serviceIds: readonly string[]) {
    const existing = new Set(serviceIds)
    for (const id of this.current.keys()) {
      if (!existing.has(id)) {
        this.current.delete(id)
        this.history.delete(id)
      }
    }
    let capacity = 0
    let used = 0
    let free = 0
    let unmounted = 0
    let arrays = 0
    let healthy = 0
    let degraded = 0
    let withStorage = 0
    for (const id of serviceIds) {
      const metrics = this.current.get(id)
      if (metrics === undefined) continue
      withStorage += 1
      for (const path of metrics.storage_paths) {
        capacity += path.total
        used += path.used
        free += path.free
        // An unmounted unionfs mount reports a size of 0.
        if (path.path.toLowerCase().includes('unionfs') && path.total === 0) unmounted += 1
      }
      for (const array of [...metrics.raid_arrays, ...metrics.zfs_pools]) {
        arrays += 1
        if (array.status === 'healthy') healthy += 1
        else if (array.status === 'degraded') degraded += 1
      }
    }
    return {
      total_services: serviceIds.length,
      services_with_storage: withStorage,
      total_capacity: round2(capacity),
      total_used: round2(used),
      total_free: round2(free),
      average_usage_percent: capacity > 0 ? round2((used / capacity) * 100) : 0,
      total_raid_arrays: arrays,
      healthy_raids: healthy,
      degraded_raids: degraded,
      failed_raids: arrays - healthy - degraded,
      unmounted_paths: unmounted,
    }
  }
}
