import { readCappedBody, DEFAULT_MAX_RESPONSE_BYTES } from '../../plex/body.js'
import { PlexResponseTooLargeError } from '../../plex/errors.js'
import type { PlexConnection } from '../../plex/plex-connection.js'

/** One cacheable request to PMS, as the mirror forwards it: no token, no client identification. */
export interface MirrorRequest {
  /** The entry's key: format, path, query and paging. Never holds the token. */
  readonly key: string
  /** Path and query as sent to PMS (the token and the `X-Plex-*` identification left out). */
  readonly target: string
  /** `Accept: application/json` asked. */
  readonly json: boolean
  /** `X-Plex-Container-Start` / `-Size` as the client sent them as headers. */
  readonly paging: Readonly<Record<string, string>>
}

/** A PMS answer as the mirror replays it. */
export interface PmsAnswer {
  readonly status: number
  readonly type: string
  /** PMS's `X-Plex-*` answer headers (paging totals). */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** PMS answered something else than 200: replayed as is (never stored: errors are not cached). */
export class PmsAnswerError extends Error {
  constructor(readonly answer: PmsAnswer) {
    super(`PMS answered ${answer.status}`)
    this.name = 'PmsAnswerError'
  }
}

/** A 200 the mirror does not hold (not UTF-8 text, or past the size cap): the request is passed through instead. */
export class NotCacheableError extends Error {
  constructor(reason: string) {
    super(`PMS's answer is not cached: ${reason}`)
    this.name = 'NotCacheableError'
  }
}

/** A failed answer's body is replayed up to this; PMS's error pages are a few hundred bytes. */
const MAX_ERROR_BODY = 64 * 1024
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const MIRROR_CLIENT = 'komandorr-cache-mirror'
/** A frozen PMS costs a loader this long at most; the core serves the held value meanwhile. */
const LOAD_TIMEOUT_MS = 15_000

/** Loads `request` from the configured server with the server's own token. */
export async function loadPmsAnswer(
  plex: PlexConnection,
  request: MirrorRequest,
  signal: AbortSignal,
): Promise<PmsAnswer> {
  const settings = plex.settings
  if (settings === undefined) throw new Error('Plex is not configured: the mirror has no server to ask')
  const headers: Record<string, string> = {
    ...request.paging,
    'X-Plex-Token': settings.token,
    'X-Plex-Client-Identifier': MIRROR_CLIENT,
    'X-Plex-Product': MIRROR_CLIENT,
    Accept: request.json ? 'application/json' : '*/*',
  }
  const res = await fetch(settings.url.replace(/\/+$/, '') + request.target, {
    headers,
    redirect: 'manual',
    signal: AbortSignal.any([signal, AbortSignal.timeout(LOAD_TIMEOUT_MS)]),
  })
  const answerHeaders: Record<string, string> = {}
  for (const [name, value] of res.headers) if (name.startsWith('x-plex-')) answerHeaders[name] = value
  const type = res.headers.get('content-type') ?? ''
  if (res.status !== 200) {
    const bytes = await readCappedBody(res, request.target, MAX_ERROR_BODY).catch(() => Buffer.alloc(0))
    throw new PmsAnswerError({ status: res.status, type, headers: answerHeaders, body: bytes.toString('utf8') })
  }
  let bytes: Buffer
  try {
    bytes = await readCappedBody(res, request.target, DEFAULT_MAX_RESPONSE_BYTES)
  } catch (error) {
    if (error instanceof PlexResponseTooLargeError) throw new NotCacheableError('larger than 64 MiB')
    throw error
  }
  let body: string
  try {
    body = utf8.decode(bytes)
  } catch {
    throw new NotCacheableError('not UTF-8 text')
  }
  return { status: 200, type, headers: answerHeaders, body }
}
