import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import type { SharedHit, SharedValue } from '../shared.js'

/**
 * A value as stored in Redis: `<tag><fetchedAt>:<lifetimeMs>[:<jsonBytes>]\n<payload>`. The tag
 * says how the payload is encoded (`j` JSON as is, `b` brotli, `g` gzip; a compressed payload
 * also gives its JSON size, so that it inflates into one buffer). `lifetimeMs` is the PX the key
 * was written with, so a reader's age is `lifetimeMs - PTTL`: measured by Redis alone, never by
 * comparing the wall clocks of two hosts.
 */
export type Codec = 'brotli' | 'gzip'

export interface CodecOptions {
  /** Payloads from this many bytes up are compressed. Default 16 KiB. */
  readonly thresholdBytes?: number
  /** Default brotli. */
  readonly codec?: Codec
  /** brotli quality (0–11) or gzip level (1–9). Default 4. */
  readonly level?: number
}

/**
 * Picked by measurement on this service's payloads (docs/redis.md, "Compression"): on a 1 MiB
 * watch history brotli 4 packs 14× and inflates faster than gzip or brotli 1; values are read far
 * more often than written, and its ~8 ms to pack runs off the event loop once per load.
 */
export const DEFAULT_COMPRESSION: Required<CodecOptions> = Object.freeze({
  thresholdBytes: 16 * 1024,
  codec: 'brotli',
  level: 4,
})

const brotliCompress = promisify(zlib.brotliCompress)
const brotliDecompress = promisify(zlib.brotliDecompress)
const gzip = promisify(zlib.gzip)
const gunzip = promisify(zlib.gunzip)

const TAG_JSON = 0x6a // j
const TAG_BROTLI = 0x62 // b
const TAG_GZIP = 0x67 // g
const NEWLINE = 0x0a

export class ValueCodec {
  readonly thresholdBytes: number
  readonly codec: Codec
  readonly level: number
  private readonly tag: number
  private readonly compress: (payload: Buffer) => Promise<Buffer>

  constructor(options: CodecOptions = {}) {
    this.thresholdBytes = options.thresholdBytes ?? DEFAULT_COMPRESSION.thresholdBytes
    this.codec = options.codec ?? DEFAULT_COMPRESSION.codec
    this.level = options.level ?? DEFAULT_COMPRESSION.level
    if (this.codec === 'brotli') {
      const params = {
        [zlib.constants.BROTLI_PARAM_QUALITY]: this.level,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      }
      this.tag = TAG_BROTLI
      this.compress = (payload) =>
        brotliCompress(payload, { params: { ...params, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: payload.length } })
    } else {
      this.tag = TAG_GZIP
      this.compress = (payload) => gzip(payload, { level: this.level })
    }
  }

  /** What to SET: a string below the threshold (no copy), else a compressed buffer. */
  async encode(value: SharedValue, lifetimeMs: number): Promise<string | Buffer> {
    // JSON length in UTF-16 units is at most its UTF-8 length: a cheap lower bound of the size.
    if (value.json.length < this.thresholdBytes && Buffer.byteLength(value.json) < this.thresholdBytes) {
      return `j${value.fetchedAt}:${lifetimeMs}\n${value.json}`
    }
    const json = Buffer.from(value.json)
    const packed = await this.compress(json)
    const header = Buffer.from(`${value.fetchedAt}:${lifetimeMs}:${json.length}\n`, 'latin1')
    return Buffer.concat([Buffer.from([this.tag]), header, packed])
  }

  /**
   * The stored value and its age from `pttl` (the key's remaining ms), or undefined for
   * something this codec did not write.
   */
  decode(stored: Buffer, pttl: number): SharedHit | Promise<SharedHit | undefined> | undefined {
    const header = parseHeader(stored, pttl)
    if (header === undefined) return undefined
    const { end, fetchedAt, ageMs, jsonBytes } = header
    const tag = stored[0]
    if (tag === TAG_JSON) return { json: stored.toString('utf8', end + 1), fetchedAt, ageMs }
    const payload = stored.subarray(end + 1)
    const unpack = tag === TAG_BROTLI ? brotliDecompress : tag === TAG_GZIP ? gunzip : undefined
    if (unpack === undefined) return undefined
    // Inflating into one buffer of the known size: zlib's default 16 KiB chunks cost ~2× on 1 MiB.
    const chunkSize =
      Number.isInteger(jsonBytes) && jsonBytes! > 0 ? Math.max(jsonBytes!, zlib.constants.Z_MIN_CHUNK) : 64 * 1024
    return unpack(payload, { chunkSize }).then(
      (json) => ({ json: json.toString('utf8'), fetchedAt, ageMs }),
      () => undefined,
    )
  }

  /** The age of a stored value from its first bytes (the header) and `pttl`. */
  ageOf(head: Buffer, pttl: number): number | undefined {
    return parseHeader(head, pttl)?.ageMs
  }
}

function parseHeader(
  stored: Buffer,
  pttl: number,
): { end: number; fetchedAt: number; ageMs: number; jsonBytes: number | undefined } | undefined {
  const end = stored.indexOf(NEWLINE)
  if (end < 2) return undefined
  const [fetchedAt, lifetimeMs, jsonBytes] = stored.toString('latin1', 1, end).split(':').map(Number)
  if (!Number.isFinite(fetchedAt) || !Number.isFinite(lifetimeMs)) return undefined
  // PTTL -1 means no expiry: someone else wrote the key; count it as just written.
  const ageMs = pttl < 0 ? 0 : Math.max(0, lifetimeMs! - pttl)
  return { end, fetchedAt: fetchedAt!, ageMs, jsonBytes }
}
