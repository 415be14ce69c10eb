import { sql, type Selectable } from 'kysely'
import type { DbSource } from './connection.js'
import type { TrafficSamplesTable } from './schema.js'

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

const toSample = (row: Selectable<TrafficSamplesTable>): TrafficSample => ({
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

export function createTrafficRepo(source: DbSource) {
  return {
    async insert(sample: TrafficSample): Promise<void> {
      await source.db
        .insertInto('traffic_samples')
        .values({
          service_id: sample.serviceId,
          at: sample.at,
          bandwidth_up: sample.bandwidthUp,
          bandwidth_down: sample.bandwidthDown,
          total_up: sample.totalUp,
          total_down: sample.totalDown,
          max_bandwidth: sample.maxBandwidth,
          cpu_percent: sample.cpuPercent,
          memory_percent: sample.memoryPercent,
        })
        .execute()
    },

    async latest(serviceId: string): Promise<TrafficSample | undefined> {
      const row = await source.db
        .selectFrom('traffic_samples')
        .selectAll()
        .where('service_id', '=', serviceId)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst()
      return row && toSample(row)
    },

    /** The newest sample of every service that has one (by insertion order). */
    async latestPerService(): Promise<Map<string, TrafficSample>> {
      const rows = await source.db
        .selectFrom('traffic_samples as t')
        .innerJoin(
          (eb) =>
            eb
              .selectFrom('traffic_samples')
              .select((e) => e.fn.max('id').as('id'))
              .groupBy('service_id')
              .as('newest'),
          (join) => join.onRef('newest.id', '=', 't.id'),
        )
        .selectAll('t')
        .execute()
      return new Map(rows.map((row) => [row.service_id, toSample(row)]))
    },

    /** A service's newest `limit` samples, oldest first (Komandorr's `traffic_history`). */
    async recent(serviceId: string, limit: number): Promise<TrafficSample[]> {
      const rows = await source.db
        .selectFrom('traffic_samples')
        .selectAll()
        .where('service_id', '=', serviceId)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute()
      return rows.reverse().map(toSample)
    },

    /** Sum of the positive steps of the cumulative counters, in GB, for samples with from < at <= to. */
    async positiveDeltaSums(from: number, to: number): Promise<{ upGb: number; downGb: number }> {
      // A counter that drops was reset (the agent restarted): that step adds nothing instead of
      // subtracting. Only steps between two samples inside the window count.
      const { rows } = await sql<{ up: number | string; down: number | string }>`
        SELECT COALESCE(SUM(CASE WHEN total_up > prev_up THEN total_up - prev_up ELSE 0 END), 0) AS up,
               COALESCE(SUM(CASE WHEN total_down > prev_down THEN total_down - prev_down ELSE 0 END), 0) AS down
        FROM (
          SELECT total_up, total_down,
                 LAG(total_up) OVER w AS prev_up,
                 LAG(total_down) OVER w AS prev_down
          FROM traffic_samples
          WHERE at > ${from} AND at <= ${to}
          WINDOW w AS (PARTITION BY service_id ORDER BY at, id)
        ) steps
        WHERE prev_up IS NOT NULL`.execute(source.db)
      return { upGb: Number(rows[0]!.up), downGb: Number(rows[0]!.down) }
    },

    async pruneBefore(at: number): Promise<number> {
      const result = await source.db.deleteFrom('traffic_samples').where('at', '<', at).executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
