import type { FastifyInstance } from 'fastify'
import type { ServicesRepo } from '../../db/index.js'
import type { TrafficLog } from '../../features/traffic/traffic-log.js'
import { notFound } from '../http-error.js'
import { routeDoc, statusMessageBody } from '../openapi/schemas.js'

// Bounds far past real traffic, so a sum of them stays finite and exact enough: a rate in MB/s
// (1,000,000 = 1 TB/s), a counter in GB since the agent started (1e12 GB = 1 ZB).
const rate = { type: 'number', minimum: 0, maximum: 1_000_000 } as const
const counter = { type: 'number', minimum: 0, maximum: 1e12 } as const

// Extra fields are ignored rather than refused: agents in the field are upgraded one at a time.
const updateBodySchema = {
  type: 'object',
  required: ['service_id', 'bandwidth_up', 'bandwidth_down', 'total_up', 'total_down'],
  properties: {
    service_id: { type: 'string', minLength: 1, maxLength: 100 },
    bandwidth_up: rate,
    bandwidth_down: rate,
    total_up: counter,
    total_down: counter,
    max_bandwidth: { type: ['number', 'null'], minimum: 0, maximum: 1_000_000 },
    // Per process, psutil counts each core: 100 % per core.
    cpu_percent: { type: ['number', 'null'], minimum: 0, maximum: 100_000 },
    memory_percent: { type: ['number', 'null'], minimum: 0, maximum: 100 },
  },
} as const

interface UpdateBody {
  service_id: string
  bandwidth_up: number
  bandwidth_down: number
  total_up: number
  total_down: number
  max_bandwidth?: number | null
  cpu_percent?: number | null
  memory_percent?: number | null
}

export function trafficRoutes(app: FastifyInstance, deps: { services: ServicesRepo; traffic: TrafficLog }): void {
  // Komandorr's traffic agent posts here every few seconds (MB/s rates, cumulative GB counters).
  const schema = routeDoc(
    'services',
    "A traffic agent's report for a service (MB/s rates, cumulative GB)",
    { 200: statusMessageBody },
    { body: updateBodySchema },
  )
  app.post<{ Body: UpdateBody }>('/api/traffic/update', { schema }, async (request) => {
    const body = request.body
    if (!(await deps.services.get(body.service_id))) {
      throw notFound(
        `Service "${body.service_id}" not found: create it in the dashboard and put its id in the traffic agent`,
      )
    }
    await deps.traffic.record({
      serviceId: body.service_id,
      bandwidthUp: body.bandwidth_up,
      bandwidthDown: body.bandwidth_down,
      totalUp: body.total_up,
      totalDown: body.total_down,
      maxBandwidth: body.max_bandwidth,
      cpuPercent: body.cpu_percent,
      memoryPercent: body.memory_percent,
    })
    return { status: 'success', message: 'Traffic data updated' }
  })
}
