import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Config } from '../config.js'
import type { ViewerAccounts } from '../features/viewers/accounts.js'
import { LoginDigest } from '../features/viewers/login-digest.js'
import type { Viewer } from '../features/viewers/viewer.js'
import { clientOf } from './client-address.js'
import type { LoginLimits } from './login-limits.js'

/**
 * Who may call a route when ENABLE_AUTH is on. POST, PUT and DELETE always need
 * credentials, whatever the route says.
 * - `protected` (the default): credentials required.
 * - `public`: open for GET/HEAD.
 * - `verify-if-sent`: open without credentials, but credentials that are sent must be right.
 *   `/api/health` is this: probes reach it bare, and Komandorr's login checks a password
 *   against it, so a wrong password must get 401 there.
 * - `open`: no credentials asked, whatever the method: Komandorr's invite redemption, which
 *   strangers holding an invite code call.
 * - `upstream`: Komandorr's route in front of Komandorr (KOMANDORR_URL): no check here, any
 *   method; the route asks Komandorr (features/komandorr-upstream/).
 */
export type RouteAccess = 'protected' | 'public' | 'verify-if-sent' | 'open' | 'upstream'

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess
    /** A signed-in viewer may call it (and gets their own view); default: admin only. */
    viewers?: boolean
  }
  interface FastifyRequest {
    /** The viewer who sent the request; null for the admin or an anonymous caller. */
    viewer: Viewer | null
  }
}

/** Route options marking a GET as open to everyone: `app.get(path, { config: publicRoute }, handler)`. */
export const publicRoute = { access: 'public' } as const satisfies { access: RouteAccess }

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const CHALLENGE = 'Basic realm="komandorr-cache", charset="UTF-8"'

export type Verdict = 'ok' | 'missing' | 'malformed' | 'wrong'

interface Credentials {
  readonly username: string
  readonly password: string
}

/** The Basic credentials of an Authorization header, or why there are none. */
function credentialsOf(authorization: string | undefined): Credentials | 'missing' | 'malformed' {
  if (authorization === undefined || authorization.trim() === '') return 'missing'
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization)
  if (!match) return 'malformed'
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return 'malformed'
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** Who sent credentials: the admin, a viewer, or nobody these credentials sign in. */
export type Caller =
  { readonly admin: true } | { readonly admin: false; readonly viewer: Viewer } | Exclude<Verdict, 'ok'>

const callerOf = (viewer: Viewer | undefined): Caller => (viewer === undefined ? 'wrong' : { admin: false, viewer })

/** Tells who sent a request's credentials (ENABLE_AUTH on); the Fastify hook and the fast hit path share one. */
export interface CallerCheck {
  /**
   * The admin, a viewer (a first sign-in waits for scrypt), or why neither. `client`: who sent
   * them (`clientOf`), for the limits on failed sign-ins; past them a ThrottledError (a 429).
   */
  identify(authorization: string | undefined, client: string): Caller | Promise<Caller>
  /** The same from memory only: `unknown` where a viewer's password would have to be checked. */
  identifyNow(authorization: string | undefined): Caller | 'unknown'
}

/**
 * One keyed digest of the credentials per request (the viewers' `LoginDigest`) tells the admin,
 * compared with the admin's digest in constant time, from a remembered viewer login. Anything
 * else is a password check, within `limits` (failed sign-ins cost the caller).
 */
export function createCallerCheck(
  auth: Config['auth'],
  viewers: ViewerAccounts | undefined,
  limits?: LoginLimits,
): CallerCheck {
  const logins = viewers?.logins ?? new LoginDigest()
  const adminLogin = logins.of(auth.username, auth.password)
  return {
    identify(authorization, client) {
      const credentials = credentialsOf(authorization)
      if (typeof credentials === 'string') return credentials
      const login = logins.of(credentials.username, credentials.password)
      if (timingSafeEqual(login, adminLogin)) return { admin: true }
      if (viewers === undefined) return 'wrong'
      const remembered = viewers.recall(login)
      if (remembered !== undefined) return { admin: false, viewer: remembered }
      // Every other name costs one scrypt check, a wrong admin password included: timing tells nothing.
      const { username, password } = credentials
      if (limits === undefined) {
        const viewer = viewers.authenticate(username, password, login)
        return viewer instanceof Promise ? viewer.then(callerOf) : callerOf(viewer)
      }
      let viewer: Viewer | undefined
      return limits
        .check(client, login.toString('base64url'), async () => {
          viewer = await viewers.authenticate(username, password, login)
          return viewer !== undefined
        })
        .then(() => callerOf(viewer))
    },
    identifyNow(authorization) {
      const credentials = credentialsOf(authorization)
      if (typeof credentials === 'string') return credentials
      const login = logins.of(credentials.username, credentials.password)
      if (timingSafeEqual(login, adminLogin)) return { admin: true }
      if (viewers === undefined) return 'wrong'
      const viewer = viewers.recall(login)
      return viewer === undefined ? 'unknown' : { admin: false, viewer }
    },
  }
}

/**
 * For the fast hit path, whom a GET may be answered for at once: `null` for the unscoped value
 * (the admin; anyone on a public route that has no viewers' view, or without credentials; every
 * caller with ENABLE_AUTH off), a viewer for their scoped value on a route with viewers' views
 * (`scoped`), or undefined to leave the request to Fastify (no or wrong credentials, a viewer
 * not signed in here yet, a viewer on an admin route), which answers it as its hook says.
 */
export type FastCaller = (
  access: RouteAccess,
  scoped: boolean,
  authorization: string | undefined,
) => Viewer | null | undefined

export function createFastCaller(auth: Config['auth'], callers: CallerCheck): FastCaller {
  if (!auth.enabled) return () => null
  return (access, scoped, authorization) => {
    if (authorization === undefined) return access === 'protected' ? undefined : null
    if (access === 'public' && !scoped) return null
    const caller = callers.identifyNow(authorization)
    if (typeof caller !== 'object') return undefined
    if (caller.admin) return null
    return scoped ? caller.viewer : undefined
  }
}

/** The routes a viewer may call, for the 403 detail. */
const VIEWER_ROUTES =
  '/api/plex/sessions, /api/plex/activities, /api/plex/watch-history, /api/plex/stats and /api/plex/media/recent'

const DETAILS: Record<Exclude<Verdict, 'ok'>, string> = {
  missing: 'Authentication required: send HTTP Basic credentials (the AUTH_USERNAME and AUTH_PASSWORD of this service)',
  malformed: 'The Authorization header is not HTTP Basic credentials: send "Basic base64(username:password)"',
  wrong: 'Invalid username or password',
}

/**
 * Installs the auth check as one onRequest hook. It runs only for matched routes, so an unknown
 * `/api` path answers 404 whether or not credentials came (a 401 there logs Komandorr's UI out).
 */
export function installAuth(app: FastifyInstance, auth: Config['auth'], callers: CallerCheck): void {
  app.decorateRequest('viewer', null)
  if (!auth.enabled) return
  const { identify } = callers
  app.addHook('onRequest', async (request, reply: FastifyReply) => {
    if (request.is404) return
    const { access = 'protected', viewers: viewersAllowed = false } = request.routeOptions.config
    if (access === 'open' || access === 'upstream') return
    const authorization = request.headers.authorization
    if (SAFE_METHODS.has(request.method)) {
      if (access === 'public') {
        // Open to all; a viewer who signs in gets their own view of it.
        if (viewersAllowed && authorization !== undefined) {
          const caller = await identify(authorization, clientOf(request.ip))
          if (typeof caller === 'object' && !caller.admin) request.viewer = caller.viewer
        }
        return
      }
      if (access === 'verify-if-sent' && authorization === undefined) return
    }
    const caller = await identify(authorization, clientOf(request.ip))
    if (typeof caller === 'object') {
      if (caller.admin) return
      request.viewer = caller.viewer
      if (viewersAllowed || (access === 'verify-if-sent' && SAFE_METHODS.has(request.method))) return
      return reply.code(403).send({
        detail: `${request.method} ${request.routeOptions.url} is for the admin only; a viewer may read ${VIEWER_ROUTES}`,
      })
    }
    if (caller === 'wrong') request.log.warn({ path: request.routeOptions.url }, 'rejected wrong credentials')
    return reply.code(401).header('www-authenticate', CHALLENGE).send({ detail: DETAILS[caller] })
  })
}
