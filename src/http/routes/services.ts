import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { TrafficSample } from '../../db/traffic-repo.js'
import type { Clock } from '../../cache/index.js'
import type { ServicesRepo } from '../../db/index.js'
import type { TrafficLog } from '../../features/traffic/traffic-log.js'
import type { ServiceMonitor } from '../../features/monitored-services/monitor.js'
import { checkTarget, pointsAtSelf, ServiceUrlError } from '../../features/monitored-services/service-url.js'
import {
  SERVICE_TYPES,
  type Service,
  type ServiceFields,
  type ServiceType,
} from '../../features/monitored-services/types.js'
import { badRequest, HttpError, notFound } from '../http-error.js'
import { routeDoc, serviceBody, servicesBody } from '../openapi/schemas.js'

/** Stored services at most: with every field at its bound the whole list stays ~70 MB of JSON. */
export const MAX_SERVICES = 1_000
/** An icon is a path, a URL or a small `data:image/...` URI. */
export const MAX_ICON_LENGTH = 65_536

const nullableText = (maxLength: number) => ({ type: ['string', 'null'], maxLength }) as const

const fieldSchemas = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  type: { type: 'string', enum: SERVICE_TYPES },
  description: nullableText(2000),
  // Komandorr stores an uploaded icon's path here, or a data: URL.
  icon: nullableText(MAX_ICON_LENGTH),
  group: nullableText(200),
} as const

// Without limit the answer is Komandorr's bare array of every service (at most MAX_SERVICES).
const listQuerySchema = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_SERVICES, default: MAX_SERVICES },
    offset: { type: 'integer', minimum: 0, maximum: MAX_SERVICES, default: 0 },
  },
} as const

const createBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'url', 'type'],
  properties: fieldSchemas,
}
const updateBodySchema = { type: 'object', additionalProperties: false, properties: fieldSchemas }
const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
}

interface ServiceBody {
  name?: string
  url?: string
  type?: ServiceType
  description?: string | null
  icon?: string | null
  group?: string | null
}

interface IdParams {
  id: string
}

interface ListQuery {
  limit: number
  offset: number
}

/** Komandorr's service shape; `traffic` is the newest agent report, as Komandorr sends it. */
function toApi(service: Service, traffic: TrafficSample | undefined) {
  return {
    id: service.id,
    name: service.name,
    url: service.url,
    type: service.type,
    status: service.status,
    last_check: service.lastCheckAt === null ? null : new Date(service.lastCheckAt).toISOString(),
    response_time: service.responseTimeMs,
    description: service.description,
    // A row stored before icons were bounded is not sent: one such row made the list unanswerable.
    icon: service.icon !== null && service.icon.length > MAX_ICON_LENGTH ? null : service.icon,
    group: service.group,
    traffic: traffic
      ? {
          bandwidth_up: traffic.bandwidthUp,
          bandwidth_down: traffic.bandwidthDown,
          total_up: traffic.totalUp,
          total_down: traffic.totalDown,
          max_bandwidth: traffic.maxBandwidth,
          cpu_percent: traffic.cpuPercent,
          memory_percent: traffic.memoryPercent,
          last_updated: new Date(traffic.at).toISOString(),
        }
      : null,
  }
}

/** Validated body → stored fields: trimmed, blank optional text stored as null, URL and icon checked. */
function toFields(body: ServiceBody, ownPort: number): Partial<ServiceFields> {
  const fields: { -readonly [K in keyof ServiceFields]?: ServiceFields[K] } = {}
  if (body.name !== undefined) {
    fields.name = body.name.trim()
    if (fields.name === '') throw badRequest('Invalid body field "name": must not be blank')
  }
  if (body.url !== undefined) fields.url = serviceUrl(body.url, ownPort)
  if (body.type !== undefined) fields.type = body.type
  for (const key of ['description', 'icon', 'group'] as const) {
    const value = body[key]
    if (value !== undefined) fields[key] = value === null || value.trim() === '' ? null : value.trim()
  }
  if (fields.icon && !isIcon(fields.icon)) {
    throw badRequest('Invalid body field "icon": must be a path, a URL or a data:image/... URI, without spaces')
  }
  return fields
}

const isIcon = (value: string) => /^data:image\/[\w.+-]+(;[\w=.+-]+)*,/i.test(value) || !/\s/.test(value)

function serviceUrl(value: string, ownPort: number): string {
  const url = value.trim()
  try {
    checkTarget(url)
  } catch (error) {
    if (!(error instanceof ServiceUrlError)) throw error
    throw badRequest(
      `Invalid body field "url": "${url.slice(0, 200)}" ${error.message} (like https://sonarr.example.com)`,
    )
  }
  if (pointsAtSelf(url, ownPort))
    throw badRequest(
      `Invalid body field "url": "${url.slice(0, 200)}" is this service itself, which cannot monitor itself`,
    )
  return url
}

export interface ServicesDeps {
  readonly services: ServicesRepo
  readonly monitor: ServiceMonitor
  readonly traffic: TrafficLog
  readonly clock: Clock
  /** PORT, until the server listens (then the bound port): a service URL pointing here is refused. */
  readonly configuredPort: number
}

export function servicesRoutes(app: FastifyInstance, deps: ServicesDeps): void {
  const { services, monitor, traffic, clock } = deps

  const missing = (id: string) => notFound(`Service "${id}" not found: list services with GET /api/services/`)
  const find = async (id: string): Promise<Service> => {
    const service = await services.get(id)
    if (!service) throw missing(id)
    return service
  }
  const withTraffic = async (service: Service) => toApi(service, await traffic.latest(service.id))
  const doc = (summary: string, responses: Record<string, unknown>, request?: Record<string, unknown>) =>
    routeDoc('services', summary, responses, request)
  const byId = { params: idParamsSchema }

  const listed = async (page: ListQuery) => {
    const [all, latest] = await Promise.all([services.list(page), traffic.latestPerService()])
    return all.map((service) => toApi(service, latest.get(service.id)))
  }
  const ownPort = () => (app.server.address() as AddressInfo | null)?.port ?? deps.configuredPort

  app.get<{ Querystring: ListQuery }>(
    '/api/services/',
    {
      schema: doc(
        'Monitored services with their newest traffic reports (pageable)',
        { 200: servicesBody },
        { querystring: listQuerySchema },
      ),
    },
    async (request, reply) => {
      const [total, page] = await Promise.all([services.count(), listed(request.query)])
      void reply.header('x-total-count', total)
      return page
    },
  )

  app.get<{ Params: IdParams }>(
    '/api/services/:id',
    { schema: doc('One service', { 200: serviceBody }, byId) },
    async (request) => withTraffic(await find(request.params.id)),
  )

  // Checked in the background at once, so the dashboard shows its status without waiting a round,
  // and a host that never answers does not hold the request.
  const create = doc('Adds a service and checks it in the background', { 201: serviceBody }, { body: createBodySchema })
  app.post<{ Body: ServiceBody }>('/api/services/', { schema: create }, async (request, reply) => {
    const fields = toFields(request.body, ownPort())
    const created = await services.insertWithin(
      MAX_SERVICES,
      randomUUID(),
      {
        name: fields.name!,
        url: fields.url!,
        type: fields.type!,
        description: fields.description ?? null,
        icon: fields.icon ?? null,
        group: fields.group ?? null,
      },
      clock.wallNow(),
    )
    if (created === undefined) {
      throw new HttpError(
        409,
        `This service already monitors ${MAX_SERVICES} services, the most it keeps: delete one before adding another`,
      )
    }
    monitor.checkInBackground(created)
    return reply.code(201).send(await withTraffic(created))
  })

  app.put<{ Params: IdParams; Body: ServiceBody }>(
    '/api/services/:id',
    {
      schema: doc(
        'Changes a service (checked again when its URL changed)',
        { 200: serviceBody },
        { params: idParamsSchema, body: updateBodySchema },
      ),
    },
    async (request) => {
      const before = await find(request.params.id)
      const updated = await services.update(before.id, toFields(request.body, ownPort()))
      if (!updated) throw missing(before.id)
      if (updated.url !== before.url) monitor.checkInBackground(updated)
      return withTraffic(updated)
    },
  )

  const remove = doc('Deletes a service', { 204: { type: 'null', description: 'Deleted' } }, byId)
  app.delete<{ Params: IdParams }>('/api/services/:id', { schema: remove }, async (request, reply) => {
    if (!(await services.delete(request.params.id))) throw missing(request.params.id)
    return reply.code(204).send()
  })

  app.post<{ Params: IdParams }>(
    '/api/services/:id/check',
    { schema: doc('Checks one service now', { 200: serviceBody }, byId) },
    async (request) => withTraffic(await monitor.checkService(await find(request.params.id))),
  )

  // + Komandorr's frontend has a "check all" button: one monitor round now (joining one that runs).
  app.post(
    '/api/services/check-all',
    { schema: doc('One monitor round now (joins one in flight)', { 200: servicesBody }) },
    async () => {
      await monitor.runRound()
      return listed({ limit: MAX_SERVICES, offset: 0 })
    },
  )
}
