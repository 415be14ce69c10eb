import type { FastifyInstance } from 'fastify'

const EXPOSED = 'X-Cache, Age, ETag'

/**
 * The few CORS headers a browser needs, for the origins in CORS_ORIGINS (`*` for any), worked
 * out once per origin: the Fastify hook and the fast hit path send the same ones.
 */
export class CorsPolicy {
  private readonly anyOrigin: boolean
  private readonly allowed: ReadonlySet<string>
  private readonly anyOriginHeaders: readonly string[] = [
    'access-control-allow-origin',
    '*',
    'access-control-expose-headers',
    EXPOSED,
  ]
  private readonly refused: readonly string[] = ['vary', 'Origin']
  private readonly perOrigin = new Map<string, readonly string[]>()

  constructor(origins: readonly string[]) {
    this.anyOrigin = origins.includes('*')
    this.allowed = new Set(origins)
  }

  get enabled(): boolean {
    return this.anyOrigin || this.allowed.size > 0
  }

  allows(origin: string): boolean {
    return this.anyOrigin || this.allowed.has(origin)
  }

  /** The headers of an answer to a request from `origin`, as name, value, name, value, ... */
  headersFor(origin: string): readonly string[] {
    if (this.anyOrigin) return this.anyOriginHeaders
    if (!this.allowed.has(origin)) return this.refused
    let headers = this.perOrigin.get(origin)
    if (headers === undefined) {
      headers = [
        'vary',
        'Origin',
        'access-control-allow-origin',
        origin,
        'access-control-allow-credentials',
        'true',
        'access-control-expose-headers',
        EXPOSED,
      ]
      this.perOrigin.set(origin, headers)
    }
    return headers
  }
}

/** The CORS hook: every answer gets the policy's headers; a preflight from an allowed origin is answered 204. */
export function installCors(app: FastifyInstance, cors: CorsPolicy): void {
  if (!cors.enabled) return
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin
    if (origin === undefined) return done()
    const headers = cors.headersFor(origin)
    for (let i = 0; i < headers.length; i += 2) reply.header(headers[i]!, headers[i + 1])
    if (!cors.allows(origin)) return done()
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      reply.header('access-control-allow-methods', 'GET, HEAD, POST, PUT, DELETE, OPTIONS')
      reply.header(
        'access-control-allow-headers',
        request.headers['access-control-request-headers'] ?? 'Authorization, Content-Type',
      )
      reply.header('access-control-max-age', '600')
      return reply.code(204).send()
    }
    done()
  })
}
