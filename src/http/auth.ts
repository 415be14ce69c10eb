import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Config } from '../config.js'

/**
 * Who may call a route when ENABLE_AUTH is on. POST, PUT and DELETE always need
 * credentials, whatever the route says.
 * - `protected` (the default): credentials required.
 * - `public`: open for GET/HEAD.
 * - `verify-if-sent`: open without credentials, but credentials that are sent must be right.
 *   `/api/health` is this: probes reach it bare, and Komandorr's login checks a password
 *   against it, so a wrong password must get 401 there.
 */
export type RouteAccess = 'protected' | 'public' | 'verify-if-sent'

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess
  }
}

/** Route options marking a GET as open to everyone: `app.get(path, { config: publicRoute }, handler)`. */
export const publicRoute = { access: 'public' } as const satisfies { access: RouteAccess }

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const CHALLENGE = 'Basic realm="komandorr-cache", charset="UTF-8"'

export type Verdict = 'ok' | 'missing' | 'malformed' | 'wrong'

/** Compares Basic credentials in constant time: both sides hashed first, so lengths always match. */
export function createCredentialsCheck(username: string, password: string): (authorization: string | undefined) => Verdict {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest()
  const expectedUser = digest(username)
  const expectedPassword = digest(password)
  return (authorization) => {
    if (authorization === undefined || authorization.trim() === '') return 'missing'
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization)
    if (!match) return 'malformed'
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return 'malformed'
    const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), expectedUser)
    const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), expectedPassword)
    return userOk && passwordOk ? 'ok' : 'wrong'
  }
}

const DETAILS: Record<Exclude<Verdict, 'ok'>, string> = {
  missing: 'Authentication required: send HTTP Basic credentials (the AUTH_USERNAME and AUTH_PASSWORD of this service)',
  malformed: 'The Authorization header is not HTTP Basic credentials: send "Basic base64(username:password)"',
  wrong: 'Invalid username or password',
}

/**
 * Whether a request may reach a route: `ok`, or why not. Off (ENABLE_AUTH unset) everything
 * is `ok`. The Fastify hook and the fast hit path both ask this.
 */
export type AccessCheck = (method: string, access: RouteAccess, authorization: string | undefined) => Verdict

export function createAccessCheck(auth: Config['auth']): AccessCheck {
  if (!auth.enabled) return () => 'ok'
  const check = createCredentialsCheck(auth.username, auth.password)
  return (method, access, authorization) => {
    if (SAFE_METHODS.has(method)) {
      if (access === 'public') return 'ok'
      if (access === 'verify-if-sent' && authorization === undefined) return 'ok'
    }
    return check(authorization)
  }
}

/**
 * Installs the auth check as one onRequest hook. It runs only for matched routes, so an unknown
 * `/api` path answers 404 whether or not credentials came (a 401 there logs Komandorr's UI out).
 */
export function installAuth(app: FastifyInstance, auth: Config['auth'], admits: AccessCheck = createAccessCheck(auth)): void {
  if (!auth.enabled) return
  app.addHook('onRequest', async (request, reply: FastifyReply) => {
    if (request.is404) return
    const verdict = admits(request.method, request.routeOptions.config.access ?? 'protected', request.headers.authorization)
    if (verdict === 'ok') return
    if (verdict === 'wrong') request.log.warn({ path: request.routeOptions.url }, 'rejected wrong credentials')
    return reply.code(401).header('www-authenticate', CHALLENGE).send({ detail: DETAILS[verdict] })
  })
}
