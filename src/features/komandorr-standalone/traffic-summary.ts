import type { TrafficSample } from '../../db/traffic-repo.js'
import type { Service } from '../monitored-services/types.js'

/** What the summary reads: the services and their agents' reports. */
export interface TrafficSummarySource {
  listServices(): Promise<readonly Service[]>
  latestPerService(): Promise<Map<string, TrafficSample>>
  recent(serviceId: string, limit: number): Promise<TrafficSample[]>
}

/** Komandorr sends each service's last 60 reports with the summary, for the dashboard's charts. */
export const HISTORY_POINTS = 60

const iso = (at: number) => new Date(at).toISOString()

/** `GET /api/traffic/summary` and each WebSocket message: Komandorr's traffic summary. */
export async function buildTrafficSummary(source: TrafficSummarySource) {
  const [services, latest] = await Promise.all([source.listServices(), source.latestPerService()])
  const reporting = services.filter((service) => latest.has(service.id))
  const histories = await Promise.all(reporting.map((service) => source.recent(service.id, HISTORY_POINTS)))
  let bandwidthUp = 0
  let bandwidthDown = 0
  let trafficUp = 0
  let trafficDown = 0
  const rows = reporting.map((service, index) => {
    const sample = latest.get(service.id)!
    bandwidthUp += sample.bandwidthUp
    bandwidthDown += sample.bandwidthDown
    trafficUp += sample.totalUp
    trafficDown += sample.totalDown
    return {
      id: service.id,
      name: service.name,
      bandwidth_up: sample.bandwidthUp,
      bandwidth_down: sample.bandwidthDown,
      total_up: sample.totalUp,
      total_down: sample.totalDown,
      max_bandwidth: sample.maxBandwidth,
      cpu_percent: sample.cpuPercent,
      memory_percent: sample.memoryPercent,
      last_updated: iso(sample.at),
      traffic_history: histories[index]!.map((point) => ({
        timestamp: iso(point.at),
        bandwidth_up: point.bandwidthUp,
        bandwidth_down: point.bandwidthDown,
        total_up: point.totalUp,
        total_down: point.totalDown,
      })),
    }
  })
  return {
    total_services: services.length,
    services_with_traffic: rows.length,
    total_bandwidth_up: bandwidthUp,
    total_bandwidth_down: bandwidthDown,
    total_traffic_up: trafficUp,
    total_traffic_down: trafficDown,
    services: rows,
  }
}

export type TrafficSummary = Awaited<ReturnType<typeof buildTrafficSummary>>
