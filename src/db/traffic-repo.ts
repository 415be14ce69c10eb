import type { Db } from './database.js'

/** One report of a traffic agent: rates in MB/s, counters in cumulative GB since the agent started. */
export interface TrafficSample {
  readonly serviceId: string
  /** Unix ms when the report arrived. */
  readonly at: number
  readonly bandwidthUp: number
  readonly bandwidthDown: number
  readonly totalUp: number
  readonly totalDown: number
  readonly maxBandwidth: number | null
  readonly cpuPercent: number | null
  readonly memoryPercent: number | null
}

interface SampleRow {
  service_id: string
  at: number
  bandwidth_up: number
  bandwidth_down: number
  total_up: number
  total_down: number
  max_bandwidth: number | null
  cpu_percent: number | null
  memory_percent: number | null
}

const toSample = (row: SampleRow): TrafficSample => ({
  serviceId: row.service_id,
  at: row.at,
  bandwidthUp: row.bandwidth_up,
  bandwidthDown: row.bandwidth_down,
  totalUp: row.total_up,
  totalDown: row.total_down,
  maxBandwidth: row.max_bandwidth,
  cpuPercent: row.cpu_percent,
  memoryPercent: row.memory_percent,
})

export type TrafficRepo = ReturnType<typeof createTrafficRepo>

export function createTrafficRepo(db: Db) {
  const insertOne = db.prepare(
    `INSERT INTO traffic_samples
       (service_id, at, bandwidth_up, bandwidth_down, total_up, total_down, max_bandwidth, cpu_percent, memory_percent)
     VALUES (@serviceId, @at, @bandwidthUp, @bandwidthDown, @totalUp, @totalDown, @maxBandwidth, @cpuPercent, @memoryPercent)`,
  )
  const selectLatest = db.prepare<[string], SampleRow>('SELECT * FROM traffic_samples WHERE service_id = ? ORDER BY at DESC, id DESC LIMIT 1')
  const selectLatestPerService = db.prepare<[], SampleRow>(
    `SELECT t.* FROM traffic_samples t
     JOIN (SELECT service_id, MAX(id) AS id FROM traffic_samples GROUP BY service_id) newest ON newest.id = t.id`,
  )
  // A counter that drops was reset (the agent restarted): that step adds nothing instead of
  // subtracting. Only steps between two samples inside the window count.
  const selectDeltaSums = db.prepare<[number, number], { up: number; down: number }>(
    `SELECT COALESCE(SUM(MAX(total_up - prev_up, 0)), 0) AS up,
            COALESCE(SUM(MAX(total_down - prev_down, 0)), 0) AS down
     FROM (
       SELECT total_up, total_down,
              LAG(total_up) OVER w AS prev_up,
              LAG(total_down) OVER w AS prev_down
       FROM traffic_samples
       WHERE at > ? AND at <= ?
       WINDOW w AS (PARTITION BY service_id ORDER BY at, id)
     )
     WHERE prev_up IS NOT NULL`,
  )
  const deleteBefore = db.prepare('DELETE FROM traffic_samples WHERE at < ?')

  return {
    insert: (sample: TrafficSample): void => void insertOne.run(sample),

    latest(serviceId: string): TrafficSample | undefined {
      const row = selectLatest.get(serviceId)
      return row && toSample(row)
    },

    /** The newest sample of every service that has one (by insertion order). */
    latestPerService: (): Map<string, TrafficSample> => new Map(selectLatestPerService.all().map((row) => [row.service_id, toSample(row)])),

    /** Sum of the positive steps of the cumulative counters, in GB, for samples with from < at <= to. */
    positiveDeltaSums(from: number, to: number): { upGb: number; downGb: number } {
      const { up, down } = selectDeltaSums.get(from, to)!
      return { upGb: up, downGb: down }
    },

    pruneBefore: (at: number): number => deleteBefore.run(at).changes,
  }
}
