import type { FastifyInstance } from 'fastify'
import { StorageReports, type StorageReport } from '../../features/komandorr-standalone/storage.js'
import { buildTrafficSummary } from '../../features/komandorr-standalone/traffic-summary.js'
import { attachTrafficSocket } from '../../features/komandorr-standalone/traffic-socket.js'
import { notFound } from '../http-error.js'
import { routeDoc } from '../openapi/schemas.js'
import type { StandaloneDeps } from './komandorr-standalone-deps.js'

const json = (description: string) => ({ description })
const doc = (summary: string, ok: string, request = {}) => routeDoc('komandorr', summary, { 200: json(ok) }, request)

const serviceIdParams = {
  type: 'object',
  required: ['serviceId'],
  properties: { serviceId: { type: 'string', minLength: 1, maxLength: 100 } },
} as const
const limitQuery = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 100 } },
} as const

// GB and percentages, bounded far past real disks; extra fields (what newer agents add) are ignored.
const gb = { type: 'number', minimum: 0, maximum: 1e12 } as const
const withStatus = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', maxLength: 100 } },
} as const
const storageBody = {
  type: 'object',
  required: ['service_id', 'hostname', 'storage_paths'],
  properties: {
    service_id: { type: 'string', minLength: 1, maxLength: 100 },
    hostname: { type: 'string', maxLength: 255 },
    timestamp: { type: 'string', maxLength: 100 },
    storage_paths: {
      type: 'array',
      maxItems: 500,
      items: {
        type: 'object',
        required: ['path', 'total', 'used', 'free', 'percent'],
        properties: {
          path: { type: 'string', maxLength: 4096 },
          total: gb,
          used: gb,
          free: gb,
          percent: { type: 'number', minimum: 0, maximum: 100 },
        },
      },
    },
    raid_arrays: { type: 'array', maxItems: 500, items: withStatus },
    zfs_pools: { type: 'array', maxItems: 500, items: withStatus },
    disks: { type: 'array', maxItems: 1000, items: { type: 'object' } },
  },
} as const

type ServiceParams = { Params: { serviceId: string }; Querystring: { limit: number } }

/** Traffic (summary, its WebSocket, per service) and storage, as Komandorr's monitor answers them. */
export function standaloneMonitoringRoutes(app: FastifyInstance, deps: StandaloneDeps): void {
  const { services, traffic } = deps
  const summary = () =>
    buildTrafficSummary({
      listServices: () => services.list(),
      latestPerService: () => traffic.latestPerService(),
      recent: (id, limit) => traffic.recent(id, limit),
    })
  const known = async (serviceId: string) => {
    if (!(await services.get(serviceId))) throw notFound(`Service "${serviceId}" not found`)
  }

  app.get(
    '/api/traffic/summary',
    { schema: doc('Traffic of every service: rates, totals, last 60 reports', 'TrafficSummary') },
    summary,
  )

  app.get<ServiceParams>(
    '/api/traffic/:serviceId/history',
    {
      schema: doc("A service's last traffic reports, oldest first", 'TrafficDataPoint[]', {
        params: serviceIdParams,
        querystring: limitQuery,
      }),
    },
    async (request) => {
      await known(request.params.serviceId)
      const points = await traffic.recent(request.params.serviceId, request.query.limit)
      return points.map((p) => ({
        timestamp: new Date(p.at).toISOString(),
        bandwidth_up: p.bandwidthUp,
        bandwidth_down: p.bandwidthDown,
        total_up: p.totalUp,
        total_down: p.totalDown,
      }))
    },
  )

  app.get<ServiceParams>(
    '/api/traffic/:serviceId/current',
    {
      schema: doc("A service's newest traffic report (zeros before the first)", 'TrafficMetrics', {
        params: serviceIdParams,
      }),
    },
    async (request) => {
      await known(request.params.serviceId)
      const sample = await traffic.latest(request.params.serviceId)
      if (sample === undefined)
        return { bandwidth_up: 0, bandwidth_down: 0, total_up: 0, total_down: 0, last_updated: null }
      return {
        bandwidth_up: sample.bandwidthUp,
        bandwidth_down: sample.bandwidthDown,
        total_up: sample.totalUp,
        total_down: sample.totalDown,
        max_bandwidth: sample.maxBandwidth,
        cpu_percent: sample.cpuPercent,
        memory_percent: sample.memoryPercent,
        last_updated: new Date(sample.at).toISOString(),
      }
    },
  )

  const socket = attachTrafficSocket({
    server: app.server,
    summary,
    onTrafficUpdate: (listener) => traffic.onRecord(listener),
    log: app.log,
  })
  app.addHook('preClose', async () => socket.close())

  const storage = new StorageReports(() => deps.clock.wallNow())

  app.post<{ Body: StorageReport }>(
    '/api/storage/update',
    {
      schema: doc("A storage agent's report for a service (kept in this instance's memory)", '{status, message}', {
        body: storageBody,
      }),
    },
    async (request) => {
      await known(request.body.service_id)
      storage.record(request.body)
      return { status: 'success', message: 'Storage data updated' }
    },
  )

  app.get(
    '/api/storage/summary',
    { schema: doc('Storage over every service: capacity, use, RAID health', 'StorageSummary') },
    async () => {
      const all = await services.list()
      return storage.summary(all.map((service) => service.id))
    },
  )

  app.get<ServiceParams>(
    '/api/storage/:serviceId/history',
    {
      schema: doc("A service's last storage reports, oldest first", 'StorageDataPoint[]', {
        params: serviceIdParams,
        querystring: limitQuery,
      }),
    },
    async (request) => {
      await known(request.params.serviceId)
      return storage.historyOf(request.params.serviceId, request.query.limit)
    },
  )

  app.get<ServiceParams>(
    '/api/storage/:serviceId/current',
    {
      schema: doc("A service's newest storage report (empty before the first)", 'StorageMetrics', {
        params: serviceIdParams,
      }),
    },
    async (request) => {
      await known(request.params.serviceId)
      return storage.currentOf(request.params.serviceId)
    },
  )
}
