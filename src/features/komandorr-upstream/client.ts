import type { KomandorrAnswer } from '../caches/komandorr-declaration.js'

/** A cached answer larger than this is not Komandorr's JSON: refused rather than held. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024

/** Komandorr could not be asked: refused, reset, timed out, or its answer could not be read. */
export class KomandorrUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`Komandorr at ${url} did not answer: ${reasonOf(cause)}`)
    this.name = 'KomandorrUnreachableError'
  }
}

/** Komandorr answered, but not with a 2xx: the answer is kept so the caller can be given it as is. */
export class KomandorrAnswerError extends Error {
  constructor(
    readonly path: string,
    readonly answer: KomandorrAnswer,
  ) {
    super(`Komandorr answered ${answer.status} to GET ${path}`)
    this.name = 'KomandorrAnswerError'
  }
}

function reasonOf(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause)
  const code = (cause.cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? `${cause.message} (${code})` : cause.message
}

/** GETs of Komandorr's own API for the caches and the verdicts (the pass-through streams everything else). */
export class KomandorrClient {
  /** `baseUrl`: KOMANDORR_URL, without a trailing slash. */
  constructor(
    readonly baseUrl: string,
    private readonly onCall?: (path: string) => void,
  ) {}

  /**
   * Komandorr's answer to `GET path` with `authorization` (if any); any status. Throws
   * `KomandorrUnreachableError` when there is none.
   */
  async get(path: string, authorization: string | undefined, signal: AbortSignal): Promise<KomandorrAnswer> {
    const url = this.baseUrl + path
    this.onCall?.(path)
    try {
      const response = await fetch(url, {
        headers:
          authorization === undefined ? { accept: 'application/json' } : { accept: 'application/json', authorization },
        redirect: 'manual',
        signal,
      })
      const length = Number(response.headers.get('content-length') ?? 0)
      if (length > MAX_ANSWER_BYTES) {
        await response.body?.cancel()
        throw new Error(
          `its answer to GET ${path} is ${length} bytes, more than the ${MAX_ANSWER_BYTES} a cached answer may hold`,
        )
      }
      const body = await response.text()
      if (Buffer.byteLength(body) > MAX_ANSWER_BYTES)
        throw new Error(`its answer to GET ${path} is more than the ${MAX_ANSWER_BYTES} bytes a cached answer may hold`)
      return { status: response.status, contentType: response.headers.get('content-type'), body }
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error
      throw new KomandorrUnreachableError(this.baseUrl, error)
    }
  }

  /** A 2xx answer, else `KomandorrAnswerError`. */
  async getOk(path: string, authorization: string | undefined, signal: AbortSignal): Promise<KomandorrAnswer> {
    const answer = await this.get(path, authorization, signal)
    if (answer.status < 200 || answer.status >= 300) throw new KomandorrAnswerError(path, answer)
    return answer
  }
}
