/** An error that already knows its HTTP status and the `detail` the client sees. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
    /** Extra fields merged into the JSON body beside `detail` (e.g. Komandorr's `message`). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail)
    this.name = 'HttpError'
  }
}

export const badRequest = (detail: string) => new HttpError(400, detail)
export const notFound = (detail: string) => new HttpError(404, detail)
