import type { FastifyInstance } from 'fastify'
import {
  ARR_ANSWERS,
  INVITE_ANSWERS,
  OVERSEERR_ANSWERS,
  POSTERIZARR_ANSWERS,
  TELEGRAM_ANSWERS,
  UPLOADER_ANSWERS,
  VPN_PROXY_ANSWERS,
  type FixedAnswer,
} from '../../features/komandorr-standalone/not-configured.js'
import { needsKomandorr } from '../../features/komandorr-standalone/needs-komandorr.js'
import { publicRoute } from '../auth.js'
import { badRequest, notFound } from '../http-error.js'
import { routeDoc } from '../openapi/schemas.js'

const json = (description: string) => ({ description })
const pathParams = (path: string) => {
  const names = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!)
  if (names.length === 0) return {}
  const properties = Object.fromEntries(names.map((n) => [n, { type: 'string', maxLength: 200 }]))
  return { params: { type: 'object', required: names, properties } }
}
const doc = (summary: string, path: string, ok = 'Komandorr’s answer') =>
  routeDoc('komandorr', summary, { 200: json(ok) }, pathParams(path))

/** Komandorr lets these through without credentials: people redeeming an invite call them. */
const open = { access: 'open' } as const

/**
 * Open to every caller: a fixed not-configured answer holds no data, and Komandorr's own uploader
 * and arr pages call theirs without credentials (a 401 there would ask the browser for a login).
 */
function fixed(app: FastifyInstance, integration: string, answers: readonly FixedAnswer[]): void {
  for (const { path, body } of answers) {
    const schema = doc(`${integration}, not configured: Komandorr's answer`, path)
    app.get(path, { config: publicRoute, schema }, async () => body)
  }
}

function refused(
  app: FastifyInstance,
  method: 'POST' | 'PUT' | 'DELETE' | 'GET',
  path: string,
  what: string,
  config = {},
): void {
  app.route({
    method,
    url: path,
    config,
    schema: doc(`${what}: needs KOMANDORR_URL (409)`, path, 'never'),
    handler: async () => {
      throw needsKomandorr(what)
    },
  })
}

/**
 * Arr activity, uploader, VPN proxy, Posterizarr, Overseerr, Telegram notifications and invites:
 * the integrations a Komandorr backend proxies, answered as Komandorr answers while they are not
 * configured; what would configure or use one is a 409 naming KOMANDORR_URL.
 */
export function standaloneIntegrationRoutes(app: FastifyInstance): void {
  fixed(app, 'Uploader', UPLOADER_ANSWERS)
  fixed(app, 'Sonarr/Radarr activity', ARR_ANSWERS)
  fixed(app, 'VPN proxy manager', VPN_PROXY_ANSWERS)
  fixed(app, 'Posterizarr', POSTERIZARR_ANSWERS)
  fixed(app, 'Overseerr', OVERSEERR_ANSWERS)
  fixed(app, 'Telegram notifications', TELEGRAM_ANSWERS)
  fixed(app, 'Invites', INVITE_ANSWERS)

  refused(app, 'POST', '/api/overseerr/users', 'Creating an Overseerr user')
  refused(app, 'DELETE', '/api/overseerr/users/:userId', 'Deleting an Overseerr user')
  refused(app, 'PUT', '/api/notifications/telegram', 'Configuring Telegram notifications')
  app.post(
    '/api/notifications/telegram/test',
    { schema: doc('Telegram, not configured: no test sent', '/') },
    async () => ({
      success: false,
      message: 'Telegram notifications are not configured',
    }),
  )

  refused(app, 'POST', '/api/invites/', 'Creating an invite')
  refused(app, 'PUT', '/api/invites/:inviteId', 'Changing an invite')
  refused(app, 'DELETE', '/api/invites/:inviteId', 'Deleting an invite')
  refused(app, 'PUT', '/api/invites/users/:userId/expiration', "Changing an invited user's expiry")
  refused(app, 'DELETE', '/api/invites/users/:userId', 'Removing an invited user')
  refused(app, 'POST', '/api/invites/users/:userId/refresh', 'Refreshing an invited user')
  app.get<{ Params: { inviteId: string } }>(
    '/api/invites/:inviteId',
    { schema: doc('An invite: there are none here (404)', '/api/invites/:inviteId', 'never') },
    async () => {
      throw notFound('Invite not found: invites live in a Komandorr backend (KOMANDORR_URL)')
    },
  )

  app.get(
    '/api/invites/tmdb/api-key',
    { config: open, schema: doc('No TMDB key: the invite page shows no backdrops', '/') },
    async () => ({
      api_key: '',
    }),
  )
  app.post<{ Querystring: { code?: string } }>(
    '/api/invites/validate',
    {
      config: open,
      schema: routeDoc(
        'komandorr',
        'Checks an invite code: none is valid here',
        { 200: json('{valid: false, message, invite: null, plex_server_name: null}') },
        { querystring: { type: 'object', properties: { code: { type: 'string', maxLength: 200 } } } },
      ),
    },
    async (request) => {
      if (!request.query.code) throw badRequest('code is required: POST /api/invites/validate?code=<invite code>')
      return { valid: false, message: 'Invite code not found', invite: null, plex_server_name: null }
    },
  )
  refused(app, 'POST', '/api/invites/redeem', 'Redeeming an invite', open)
  refused(app, 'GET', '/api/oauth/plex/login', 'Signing in with Plex to redeem an invite', open)
  refused(app, 'GET', '/api/oauth/plex/check/:pinId', 'Signing in with Plex to redeem an invite', open)
  refused(app, 'POST', '/api/oauth/plex/redeem', 'Redeeming an invite', open)
}
