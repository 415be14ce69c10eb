// Every failure of the Plex client is a PlexError with a `kind`, so callers can switch on it
// (serve stale on 'timeout' | 'unreachable' | 'http', alert on 'auth', ignore 'aborted').
// No message, cause or stack built here ever contains the Plex token.

export type PlexErrorKind = 'auth' | 'timeout' | 'unreachable' | 'http' | 'response' | 'aborted'

export abstract class PlexError extends Error {
  abstract readonly kind: PlexErrorKind
  /** The endpoint path that failed, without its query (e.g. `/status/sessions`). */
  readonly endpoint: string

  constructor(message: string, endpoint: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.endpoint = endpoint
  }
}

export class PlexAuthError extends PlexError {
  readonly kind = 'auth'
  readonly status = 401

  constructor(endpoint: string) {
    super(`Plex answered 401: the token is not accepted (${endpoint})`, endpoint)
  }
}

export class PlexTimeoutError extends PlexError {
  readonly kind = 'timeout'

  constructor(
    endpoint: string,
    readonly timeoutMs: number,
  ) {
    super(`Plex ${endpoint} did not answer within ${timeoutMs} ms`, endpoint)
  }
}

export class PlexUnreachableError extends PlexError {
  readonly kind = 'unreachable'

  constructor(
    endpoint: string,
    /** `host:port` of the server that could not be reached. */
    readonly address: string,
    /** The system error code when there is one (ECONNREFUSED, ENOTFOUND, ECONNRESET, ...). */
    readonly code: string | undefined,
    cause?: Error,
  ) {
    super(`Plex at ${address} is unreachable${code ? ` (${code})` : ''}: ${endpoint} failed`, endpoint, { cause })
  }
}

export class PlexHttpError extends PlexError {
  readonly kind = 'http'

  constructor(
    endpoint: string,
    readonly status: number,
    statusText: string,
  ) {
    super(`Plex ${endpoint} answered ${status}${statusText ? ` ${statusText}` : ''}`, endpoint)
  }
}

export class PlexResponseError extends PlexError {
  readonly kind = 'response'

  /** `problem` reads like `Metadata[2].viewOffset is "abc", not a number`. */
  constructor(endpoint: string, problem: string) {
    super(`Plex ${endpoint}: ${problem}`, endpoint)
  }
}

/** The reply grew past PLEX_MAX_RESPONSE_BYTES (declared or while streaming): the request was cut off. */
export class PlexResponseTooLargeError extends PlexResponseError {
  constructor(
    endpoint: string,
    readonly maxBytes: number,
    /** What gave it away: the Content-Length it declared, or the bytes read when it was cut off. */
    readonly seenBytes: number,
    declared: boolean,
  ) {
    super(
      endpoint,
      declared
        ? `the reply declares ${seenBytes} bytes, more than the ${formatBytes(maxBytes)} allowed (PLEX_MAX_RESPONSE_BYTES); it was not read`
        : `the reply passed ${seenBytes} bytes, more than the ${formatBytes(maxBytes)} allowed (PLEX_MAX_RESPONSE_BYTES); it was cut off there`,
    )
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`
  return `${bytes} bytes`
}

/** The caller's AbortSignal fired; distinct from PlexTimeoutError, which is the client's own deadline. */
export class PlexAbortedError extends PlexError {
  readonly kind = 'aborted'
  readonly code = 'ABORT_ERR'

  constructor(endpoint: string) {
    super(`Plex ${endpoint}: the request was aborted by the caller`, endpoint)
  }
}

export function isPlexError(err: unknown): err is PlexError {
  return err instanceof PlexError
}

/** Removes every occurrence of the token (raw and URL-encoded) and any `X-Plex-Token=` query value. */
export function redactToken(text: string, token: string): string {
  let out = text.replace(/(X-Plex-Token=)[^&\s"'<>]*/gi, '$1***')
  if (token) {
    for (const form of new Set([token, encodeURIComponent(token)])) out = out.split(form).join('***')
  }
  return out
}

/** A copy of a low-level error (undici, ws, node:net) that keeps name, code and message, token removed. */
export function sanitizedCause(err: unknown, token: string): Error | undefined {
  if (!(err instanceof Error)) return undefined
  const copy = new Error(redactToken(err.message, token))
  copy.name = err.name
  const code = errorCode(err)
  if (code) Object.assign(copy, { code })
  copy.stack = `${copy.name}: ${copy.message}`
  return copy
}

export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
