import type { FastifyInstance } from 'fastify'
import { PlexConfigInputError, type PlexCheck, type PlexConfigService } from '../../features/plex/plex-config.js'
import { HttpError } from '../http-error.js'
import {
  plexConfigBody as plexConfigView,
  plexConfigSavedBody,
  plexValidateBody,
  routeDoc,
} from '../openapi/schemas.js'

interface PlexConfigBody {
  url: string
  token: string
}

const plexConfigBody = {
  type: 'object',
  required: ['url', 'token'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', maxLength: 2048 },
    token: { type: 'string', maxLength: 1024 },
  },
} as const

/**
 * The Plex server setting. Both POSTs check the server (`GET /`) and save it when it answers;
 * they differ in how a failed check is told, as Komandorr's frontend expects: `/config` with a
 * 400 `{detail, message}`, `/validate` with a 200 `{valid: false, message}`. A body that is not
 * a URL and a token is a 400 for both. The token is never echoed.
 */
export function plexConfigRoutes(app: FastifyInstance, deps: { plexConfig: PlexConfigService }): void {
  const service = deps.plexConfig

  const save = async (body: PlexConfigBody, extra: Record<string, unknown> = {}): Promise<PlexCheck> => {
    try {
      return await service.save(body)
    } catch (error) {
      if (!(error instanceof PlexConfigInputError)) throw error
      const detail = `Invalid body field "${error.field}": ${error.message}`
      throw new HttpError(400, detail, { message: detail, ...extra })
    }
  }

  app.get(
    '/api/plex/config',
    { schema: routeDoc('plex', 'The Plex server in use (never the token)', { 200: plexConfigView }) },
    async () => service.view(),
  )

  const saveDoc = routeDoc(
    'plex',
    'Checks the server (GET /) and saves it; 400 when the check fails',
    { 200: plexConfigSavedBody },
    { body: plexConfigBody },
  )
  app.post<{ Body: PlexConfigBody }>('/api/plex/config', { schema: saveDoc }, async (request) => {
    const check = await save(request.body)
    if (!check.valid) throw new HttpError(400, check.message, { message: check.message })
    return {
      success: true,
      status: 'success',
      message: `Connected to ${check.serverName}; the Plex server is saved`,
      ...service.view(),
    }
  })

  const validate = routeDoc(
    'plex',
    'Checks the server and saves it when it answers; a failed check is 200 {valid: false}',
    { 200: plexValidateBody },
    { body: plexConfigBody },
  )
  app.post<{ Body: PlexConfigBody }>('/api/plex/validate', { schema: validate }, async (request) => {
    const check = await save(request.body, { valid: false, server_name: null })
    return check.valid
      ? {
          valid: true,
          message: `Connected to ${check.serverName}; the Plex server is saved`,
          server_name: check.serverName,
        }
      : { valid: false, message: check.message, server_name: null }
  })
}
