// Reads a reply body with a byte cap, counted on the decoded stream (fetch inflates gzip and
// brotli itself, so a compression bomb counts at its inflated size) and on the Content-Length a
// server declares. Past the cap the request is cancelled: nothing beyond it is buffered.
import { PlexResponseTooLargeError } from './errors.js'

/** PLEX_MAX_RESPONSE_BYTES's default: far above any paged PMS reply, far below what hurts the process. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

export async function readCappedBody(res: Response, endpoint: string, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  // A compressed reply declares its compressed size: only the inflated count below is binding.
  if (declared > maxBytes && !res.headers.get('content-encoding')) {
    await res.body?.cancel().catch(() => {})
    throw new PlexResponseTooLargeError(endpoint, maxBytes, declared, true)
  }
  if (res.body === null) return Buffer.alloc(0)
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      throw new PlexResponseTooLargeError(endpoint, maxBytes, total, false)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, total)
}
