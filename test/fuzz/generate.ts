// Seeded generators of hostile and careless requests for the route fuzz suite.

/** The simulator's seeded PRNG, so a failing run is repeated with FUZZ_SEED. */
export { mulberry32 as prng } from '../../sim/random.js'

export interface FetchCase {
  readonly kind: 'fetch'
  readonly method: string
  /** Path and query, already encoded as they go on the wire. */
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: string
}

export interface RawCase {
  readonly kind: 'raw'
  /** Bytes sent as they are; `{host}` becomes the Host header line. */
  readonly request: string
}

export type FuzzCase = FetchCase | RawCase

export interface Targets {
  /** Ids of services that exist. */
  readonly serviceIds: readonly string[]
  /** The HTTP listener the image proxy must never reach. */
  readonly canaryPort: number
  /** A port nothing listens on, for service URLs. */
  readonly closedPort: number
}

const ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/api/health'],
  ['GET', '/api/auth/status'],
  ['GET', '/api/downloads'],
  ['GET', '/api/invites/plex/config'],
  ['GET', '/api/plex/activities'],
  ['GET', '/api/plex/sessions'],
  ['GET', '/api/plex/stats'],
  ['GET', '/api/plex/stats/dashboard'],
  ['GET', '/api/plex/users/count'],
  ['GET', '/api/plex/media/recent'],
  ['GET', '/api/plex/watch-history'],
  ['GET', '/api/plex/cache/stats'],
  ['GET', '/api/plex/config'],
  ['GET', '/api/plex/proxy/image'],
  ['GET', '/api/services/'],
  ['GET', '/api/services/{id}'],
  ['PUT', '/api/services/{id}'],
  ['DELETE', '/api/services/{id}'],
  ['POST', '/api/services/'],
  ['POST', '/api/services/{id}/check'],
  ['POST', '/api/services/check-all'],
  ['POST', '/api/traffic/update'],
  ['POST', '/api/plex/stats/peak'],
  ['POST', '/api/plex/stats/reset'],
  ['POST', '/api/plex/config'],
  ['POST', '/api/plex/validate'],
  ['POST', '/api/plex/watch-history/sync'],
  ['POST', '/api/plex/cache/clear'],
  ['POST', '/api/plex/cache/warm'],
]

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']

/** Numbers as JSON text: what JSON.stringify cannot produce (1e400) and what loses precision. */
const ODD_NUMBERS = [
  '1e400',
  '-1e400',
  '9007199254740993',
  '9223372036854775807',
  '1e20',
  '-1',
  '-0',
  '0',
  '1.5',
  '2147483648',
  '1e-400',
  '123456789012345678901234567890',
  '5',
]
const ODD_QUERY_VALUES = [
  ...ODD_NUMBERS,
  'Infinity',
  '-Infinity',
  'NaN',
  '',
  '%FF',
  '%00',
  '0x10',
  '1_000',
  ' 5',
  '5 ',
  'true',
  'null',
  '[]',
  '%E2%82%AC',
  'a'.repeat(5_000),
  '..%2F..%2Fetc%2Fpasswd',
]
const ODD_STRINGS = [
  '',
  ' ',
  'x'.repeat(70_000),
  '\u0000',
  '\u202e\u0041',
  'http://%FF@127.0.0.1:9/',
  'javascript:alert(1)',
  '${jndi:ldap://x}',
  "' OR 1=1 --",
  '<script>',
  '💥'.repeat(100),
  'data:image/png;base64,AAAA',
]
const QUERY_KEYS = ['limit', 'offset', 'user_id', 'url', 'x', '__proto__', 'constructor']
const BODY_FIELDS = [
  'name',
  'url',
  'type',
  'description',
  'icon',
  'group',
  'service_id',
  'bandwidth_up',
  'bandwidth_down',
  'total_up',
  'total_down',
  'max_bandwidth',
  'cpu_percent',
  'memory_percent',
  'peak_concurrent',
  'token',
  '__proto__',
  'constructor',
]
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/xml',
  '',
  'application/*',
  '*/*',
]
const PATH_TRICKS = [
  '/api/services/%FF',
  '/api/services/%',
  '/api/services/%2e%2e',
  '//api//health',
  '/api/plex/../health',
  '/api/services/x/check/more',
  `/api/services/${'a'.repeat(300)}`,
  '/api/%00',
  '/api/plex/watch-history;limit=5',
  '/API/HEALTH',
  '/api/plex/cache/warm/',
  '/api/invites/',
  '/api/storage/summary',
  '/',
  '/favicon.ico',
  '/api/services/%E2%82%AC',
]

export function generateCase(random: () => number, targets: Targets): FuzzCase {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const chance = (p: number) => random() < p

  const roll = random()
  if (roll < 0.12) return rawCase(pick, chance)
  if (roll < 0.22) return imageProxyCase(pick, targets)

  let method: string
  let path: string
  if (roll < 0.3) {
    method = pick(METHODS)
    path = pick(PATH_TRICKS)
  } else {
    const [routeMethod, template] = pick(ROUTES)
    method = chance(0.15) ? pick(METHODS) : routeMethod
    const id =
      chance(0.6) && targets.serviceIds.length > 0
        ? pick(targets.serviceIds)
        : pick(['nope', '%FF', '0', '-1', 'a'.repeat(100), '..', '%20'])
    path = template.replace('{id}', id)
  }
  if (chance(0.5)) path += `?${queryString(pick, chance)}`

  const headers: Record<string, string> = {}
  if (chance(0.3)) Object.assign(headers, pick(ODD_HEADERS)(pick))
  let body: string | undefined
  if (method !== 'GET' && method !== 'HEAD' && chance(0.85)) {
    body = jsonBody(pick, chance, targets)
    const contentType = chance(0.8) ? 'application/json' : pick(CONTENT_TYPES)
    if (contentType !== '') headers['content-type'] = contentType
  }
  return { kind: 'fetch', method, path, headers, body }
}

type Pick = <T>(items: readonly T[]) => T

function queryString(pick: Pick, chance: (p: number) => boolean): string {
  const parts: string[] = []
  const count = 1 + (chance(0.5) ? 1 : 0) + (chance(0.2) ? 2 : 0)
  for (let i = 0; i < count; i++) parts.push(`${pick(QUERY_KEYS)}=${pick(ODD_QUERY_VALUES)}`)
  return parts.join('&')
}

const ODD_HEADERS: ReadonlyArray<(pick: Pick) => Record<string, string>> = [
  () => ({ authorization: 'Basic !!!' }),
  () => ({ authorization: `Basic ${Buffer.from('admin:' + 'x'.repeat(3_000)).toString('base64')}` }),
  () => ({ 'if-none-match': '"'.repeat(500) }),
  () => ({ 'accept-encoding': 'gzip;q=NaN, br;q=-1, *;q=1e400' }),
  () => ({ origin: 'http://evil.example' }),
  () => ({ origin: 'null', 'access-control-request-method': 'DELETE' }),
  () => ({ 'x-forwarded-for': '127.0.0.1, ::1', 'x-forwarded-host': 'evil.example' }),
  () => ({ 'content-encoding': 'gzip' }),
  () => ({ range: 'bytes=0-1e400' }),
  (pick) => ({ accept: pick(['*/*', 'text/html', 'application/xml', '']) }),
]

function jsonBody(pick: Pick, chance: (p: number) => boolean, targets: Targets): string {
  if (chance(0.05)) return '['.repeat(20_000) + ']'.repeat(20_000)
  if (chance(0.05)) return `{"a":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_001)}`
  if (chance(0.05))
    return pick(['{', '{"a":}', 'null', '[]', '"text"', '1e400', 'true', '{"__proto__":{"admin":true}}', '\u0000', ''])
  const fields: string[] = []
  const count = 1 + (chance(0.5) ? 1 : 0) + (chance(0.5) ? 2 : 0) + (chance(0.3) ? 4 : 0)
  for (let i = 0; i < count; i++) fields.push(`"${pick(BODY_FIELDS)}":${jsonValue(pick, chance, targets)}`)
  return `{${fields.join(',')}}`
}

function jsonValue(pick: Pick, chance: (p: number) => boolean, targets: Targets): string {
  if (chance(0.35)) return pick(ODD_NUMBERS)
  if (chance(0.3)) return JSON.stringify(pick(ODD_STRINGS))
  if (chance(0.2)) {
    // Values that pass the schema, so the handlers behind it run too.
    return JSON.stringify(
      pick([
        'app',
        'website',
        `http://127.0.0.1:${targets.closedPort}/`,
        targets.serviceIds[0] ?? 'x',
        'token-abc',
        `http://127.0.0.1:${targets.closedPort}`,
        '/icons/a.png',
      ]),
    )
  }
  return pick(['null', 'true', '[]', '{}', '[1,2,3]', '{"$gt":""}', '""'])
}

function imageProxyCase(pick: Pick, targets: Targets): FetchCase {
  const port = targets.canaryPort
  const forms = [
    `http://127.0.0.1:${port}/canary.png`,
    `http://localhost:${port}/canary.png`,
    `http://[::1]:${port}/canary.png`,
    `http://2130706433:${port}/canary.png`,
    `http://0x7f.0.0.1:${port}/canary.png`,
    `http://127.1:${port}/canary.png`,
    `http://0.0.0.0:${port}/canary.png`,
    `//127.0.0.1:${port}/canary.png`,
    `http://plex.tv@127.0.0.1:${port}/canary.png`,
    `http://127.0.0.1:${port}#@plex.tv/canary.png`,
    `https://plex.tv.127.0.0.1.nip.io:${port}/canary.png`,
    `http://[::ffff:127.0.0.1]:${port}/canary.png`,
    `/library/../../..//127.0.0.1:${port}/canary.png`,
    `\\\\127.0.0.1:${port}\\canary.png`,
    `file:///etc/passwd`,
    `gopher://127.0.0.1:${port}/_GET`,
  ]
  return {
    kind: 'fetch',
    method: 'GET',
    path: `/api/plex/proxy/image?url=${encodeURIComponent(pick(forms))}`,
    headers: {},
  }
}

function rawCase(pick: Pick, chance: (p: number) => boolean): RawCase {
  const line = pick([
    'GARBAGE\r\n\r\n',
    'GET /api/health HTTP/9.9\r\n{host}\r\n',
    'GET /api/health HTTP/1.0\r\n\r\n',
    'GET http://evil.example/api/health HTTP/1.1\r\n{host}\r\n',
    'GET /api/services/%FF HTTP/1.1\r\n{host}\r\n',
    'GET /api/health HTTP/1.1\r\n{host}X-A: a\u0001b\r\n\r\n',
    'GET /api/health HTTP/1.1\r\n{host}Bad Header: x\r\n\r\n',
    'POST /api/services/ HTTP/1.1\r\n{host}Content-Length: -1\r\n\r\n',
    'POST /api/services/ HTTP/1.1\r\n{host}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    'POST /api/services/ HTTP/1.1\r\n{host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'POST /api/services/ HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
    'POST /api/traffic/update HTTP/1.1\r\n{host}Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    `GET /api/health HTTP/1.1\r\n{host}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    `GET /api/health?${'q'.repeat(20_000)} HTTP/1.1\r\n{host}\r\n`,
    'GET /api/health HTTP/1.1\r\n\r\n',
    'GET /api/health HTTP/1.1\r\n{host}{host}\r\n',
    'GET /api/health HTTP/1.1\n{host}\n',
    'GET /api/health HTTP/1.1\r\n{host}\r\nGET /api/plex/watch-history?offset=1e20 HTTP/1.1\r\n{host}\r\n',
    'CONNECT 127.0.0.1:22 HTTP/1.1\r\n{host}\r\n',
    'GET /api/health HTTP/1.1\r\n{host}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'GET /\u00ff HTTP/1.1\r\n{host}\r\n',
    'GET /api/health HTTP/1.1\r\n{host}Expect: teapot\r\n\r\n',
    'POST /api/services/ HTTP/1.1\r\n{host}Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    'OPTIONS * HTTP/1.1\r\n{host}\r\n',
  ])
  return { kind: 'raw', request: chance(0.1) ? line.replace('{host}', '{host}X-Extra: 1\r\n') : line }
}
