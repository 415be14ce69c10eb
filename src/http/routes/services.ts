import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { TrafficSample } from '../../db/traffic-repo.js'
import type { Runtime } from '../../runtime.js'
import { SERVICE_TYPES, type Service, type ServiceFields, type ServiceType } from '../../services/types.js'
import { badRequest, notFound } from '../http-error.js'

const nullableText = (maxLength: number) => ({ type: ['string', 'null'], maxLength }) as const

const fieldSchemas = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  type: { type: 'string', enum: SERVICE_TYPES },
  description: nullableText(2000),
  // Komandorr stores an uploaded icon's path here, or a data: URL.
  icon: nullableText(262_144),
  group: nullableText(200),
} as const

const createBodySchema = { type: 'object', additionalProperties: false, required: ['name', 'url', 'type'], properties: fieldSchemas }
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
    icon: service.icon,
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

/** Validated body → stored fields: trimmed, blank optional text stored as null, URL checked. */
function toFields(body: ServiceBody): Partial<ServiceFields> {
  const fields: { -readonly [K in keyof ServiceFields]?: ServiceFields[K] } = {}
  if (body.name !== undefined) {
    fields.name = body.name.trim()
    if (fields.name === '') throw badRequest('Invalid body field "name": must not be blank')
  }
  if (body.url !== undefined) fields.url = httpUrl(body.url)
  if (body.type !== undefined) fields.type = body.type
  for (const key of ['description', 'icon', 'group'] as const) {
    const value = body[key]
    if (value !== undefined) fields[key] = value === null || value.trim() === '' ? null : value.trim()
  }
  return fields
}

function httpUrl(value: string): string {
  const url = value.trim()
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
    throw badRequest(`Invalid body field "url": "${url.slice(0, 200)}" is not an http(s) URL (like https://sonarr.example.com)`)
  }
  return url
}

export function servicesRoutes(app: FastifyInstance, runtime: Runtime): void {
  const { services } = runtime.repos
  const { monitor, traffic } = runtime

  const missing = (id: string) => notFound(`Service "${id}" not found: list services with GET /api/services/`)
  const find = async (id: string): Promise<Service> => {
    const service = await services.get(id)
    if (!service) throw missing(id)
    return service
  }
  const withTraffic = async (service: Service) => toApi(service, await traffic.latest(service.id))
  const listed = async () => {
    const [all, latest] = await Promise.all([services.list(), traffic.latestPerService()])
    return all.map((service) => toApi(service, latest.get(service.id)))
  }

  app.get('/api/services/', listed)

  app.get<{ Params: IdParams }>('/api/services/:id', { schema: { params: idParamsSchema } }, async (request) =>
    withTraffic(await find(request.params.id)),
  )

  // Komandorr checks a new service at once, so the dashboard shows its status without waiting a round.
  app.post<{ Body: ServiceBody }>('/api/services/', { schema: { body: createBodySchema } }, async (request, reply) => {
    const fields = toFields(request.body)
    const created = await services.insert(
      randomUUID(),
      {
        name: fields.name!,
        url: fields.url!,
        type: fields.type!,
        description: fields.description ?? null,
        icon: fields.icon ?? null,
        group: fields.group ?? null,
      },
      runtime.clock.wallNow(),
    )
    const checked = await monitor.checkService(created)
    return reply.code(201).send(await withTraffic(checked))
  })

  app.put<{ Params: IdParams; Body: ServiceBody }>(
    '/api/services/:id',
    { schema: { params: idParamsSchema, body: updateBodySchema } },
    async (request) => {
      const before = await find(request.params.id)
      const updated = await services.update(before.id, toFields(request.body))
      if (!updated) throw missing(before.id)
      const current = updated.url !== before.url ? await monitor.checkService(updated) : updated
      return withTraffic(current)
    },
  )

  app.delete<{ Params: IdParams }>('/api/services/:id', { schema: { params: idParamsSchema } }, async (request, reply) => {
    if (!(await services.delete(request.params.id))) throw missing(request.params.id)
    return reply.code(204).send()
  })

  app.post<{ Params: IdParams }>('/api/services/:id/check', { schema: { params: idParamsSchema } }, async (request) =>
    withTraffic(await monitor.checkService(await find(request.params.id))),
  )

  // + Komandorr's frontend has a "check all" button: one monitor round now (joining one that runs).
  app.post('/api/services/check-all', async () => {
    await monitor.runRound()
    return listed()
  })
}
