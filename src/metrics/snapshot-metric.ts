import type { Metric, Registry } from 'prom-client'

export interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
  /** For a histogram's series: `<name>_bucket`, `<name>_sum`, `<name>_count`. */
  readonly metricName?: string
}

export interface SnapshotMetricSpec {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  /** Reads the values at scrape time from state the service keeps anyway (counters, held values). */
  readonly read: () => readonly Sample[]
}

/**
 * A metric whose values are read when Prometheus scrapes, not pushed on every event:
 * the service's own integer counters (bumped on the hot path anyway) are the source of truth,
 * and a scrape only copies them. prom-client renders any registered object with `get()`.
 */
export function registerSnapshot(registry: Registry, spec: SnapshotMetricSpec): void {
  const metric = {
    name: spec.name,
    help: spec.help,
    type: spec.type,
    get: async () => ({ name: spec.name, help: spec.help, type: spec.type, aggregator: 'sum', values: spec.read() }),
    reset: () => {},
  }
  registry.registerMetric(metric as unknown as Metric)
}
