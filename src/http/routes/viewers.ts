import type { FastifyInstance } from 'fastify'
import type { ViewerAccounts } from '../../features/viewers/accounts.js'
import { HttpError, notFound } from '../http-error.js'
import { routeDoc, viewerBody, viewersBody } from '../openapi/schemas.js'

export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'

const createSchema = {
  type: 'object',
  required: ['username', 'password', 'plex_account_id'],
  additionalProperties: false,
  properties: {
    username: { type: 'string', pattern: USERNAME_PATTERN },
    password: { type: 'string', minLength: 8, maxLength: 256 },
    plex_account_id: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
  },
} as const

const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username: { type: 'string', pattern: USERNAME_PATTERN } },
} as const

const REFUSED = {
  'auth-off': new HttpError(
    409,
    'Viewer accounts need ENABLE_AUTH=true (with AUTH_USERNAME and AUTH_PASSWORD for the admin): without auth every caller is the admin',
  ),
  'admin-name': new HttpError(
    409,
    'Invalid body field "username": it is the admin\'s name (AUTH_USERNAME); choose another',
  ),
  taken: new HttpError(
    409,
    'Invalid body field "username": a viewer with this name exists; delete it first to make it again',
  ),
} as const

/** The viewer accounts, managed by the admin (auth: every method here is admin only). */
export function viewersRoutes(app: FastifyInstance, deps: { viewers: ViewerAccounts }): void {
  const { viewers } = deps

  const create = routeDoc(
    'viewers',
    'Makes a viewer account (needs ENABLE_AUTH): they sign in with HTTP Basic and see only their own Plex activity',
    { 201: viewerBody },
    { body: createSchema },
  )
  app.post('/api/viewers', { schema: create }, async (request, reply) => {
    const body = request.body as { username: string; password: string; plex_account_id: number }
    const outcome = await viewers.create({
      username: body.username,
      password: body.password,
      plexAccountId: body.plex_account_id,
    })
    if (!outcome.ok) throw REFUSED[outcome.reason]
    return reply.code(201).send(outcome.viewer)
  })

  app.get('/api/viewers', { schema: routeDoc('viewers', 'The viewer accounts', { 200: viewersBody }) }, async () => ({
    viewers: await viewers.list(),
  }))

  const remove = routeDoc(
    'viewers',
    'Deletes a viewer account and drops its cached entries on every instance; its next request is a 401',
    { 204: { type: 'null', description: 'Deleted' } },
    { params: usernameParams },
  )
  app.delete('/api/viewers/:username', { schema: remove }, async (request, reply) => {
    const { username } = request.params as { username: string }
    if (!(await viewers.delete(username))) throw notFound(`No viewer named "${username}"`)
    return reply.code(204).send()
  })
}
