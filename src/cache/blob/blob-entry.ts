import { hash } from 'node:crypto'

/** What a blob loader returns: bytes and their media type. */
export interface BlobValue {
  readonly body: Buffer
  readonly contentType: string
}

/** One cached blob, immutable once stored. Times are wall-clock: a disk entry outlives the process. */
export interface BlobEntry extends BlobValue {
  /** A strong ETag (quoted): sha1 of the body. */
  readonly etag: string
  /** Epoch ms of the upstream fetch. */
  readonly fetchedAt: number
  /** Epoch ms until which the entry is fresh; Infinity for an immutable one. */
  readonly freshUntil: number
  readonly bytes: number
}

export function blobEntry(value: BlobValue, fetchedAt: number, freshForMs: number): BlobEntry {
  return Object.freeze({
    body: value.body,
    contentType: value.contentType,
    etag: `"${hash('sha1', value.body, 'base64url')}"`,
    fetchedAt,
    freshUntil: fetchedAt + freshForMs,
    bytes: value.body.length,
  })
}

// The file format of the disk tier: MAGIC, a 4-byte big-endian header length, the header (JSON),
// the body. The header names the body's length, so a file cut short is recognised and ignored.
const MAGIC = Buffer.from('KBLOB1\n')

interface Header {
  readonly contentType: string
  readonly etag: string
  readonly fetchedAt: number
  /** null for Infinity (immutable). */
  readonly freshUntil: number | null
  readonly bytes: number
}

export function encodeBlob(entry: BlobEntry): Buffer {
  const header: Header = {
    contentType: entry.contentType,
    etag: entry.etag,
    fetchedAt: entry.fetchedAt,
    freshUntil: Number.isFinite(entry.freshUntil) ? entry.freshUntil : null,
    bytes: entry.bytes,
  }
  const json = Buffer.from(JSON.stringify(header))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(json.length)
  return Buffer.concat([MAGIC, length, json, entry.body])
}

/** The entry in a file's bytes, or undefined when the file is torn, cut short or not ours. */
export function decodeBlob(file: Buffer): BlobEntry | undefined {
  if (file.length < MAGIC.length + 4 || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined
  const headerLength = file.readUInt32BE(MAGIC.length)
  const bodyAt = MAGIC.length + 4 + headerLength
  if (bodyAt > file.length) return undefined
  let header: Header
  try {
    header = JSON.parse(file.subarray(MAGIC.length + 4, bodyAt).toString('utf8')) as Header
  } catch {
    return undefined
  }
  if (
    typeof header.contentType !== 'string' ||
    typeof header.etag !== 'string' ||
    typeof header.fetchedAt !== 'number' ||
    typeof header.bytes !== 'number' ||
    file.length - bodyAt !== header.bytes
  ) {
    return undefined
  }
  return Object.freeze({
    body: file.subarray(bodyAt),
    contentType: header.contentType,
    etag: header.etag,
    fetchedAt: header.fetchedAt,
    freshUntil: header.freshUntil ?? Infinity,
    bytes: header.bytes,
  })
}
