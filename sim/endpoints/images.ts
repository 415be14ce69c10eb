import { deflateSync } from 'node:zlib'
import { hash32 } from '../random.js'
import type { Reply, RequestContext } from '../http/reply.js'

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

function crc32(buf: Buffer): number {
  let c = 0xffffffff
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

/** A real (decodable) PNG: a small vertical gradient in one hue. */
export function makePng(width: number, height: number, rgb: readonly [number, number, number]): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // truecolour RGB
  const raw = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    const shade = 0.55 + (0.45 * y) / Math.max(1, height - 1)
    const base = y * (width * 3 + 1)
    raw[base] = 0
    for (let x = 0; x < width; x++) {
      raw[base + 1 + x * 3] = Math.round(rgb[0] * shade)
      raw[base + 2 + x * 3] = Math.round(rgb[1] * shade)
      raw[base + 3 + x * 3] = Math.round(rgb[2] * shade)
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const cache = new Map<string, Buffer>()

function imageFor(key: string, width: number, height: number): Buffer {
  const cacheKey = `${key}:${width}x${height}`
  let png = cache.get(cacheKey)
  if (!png) {
    let h = 0
    for (let i = 0; i < key.length; i++) h = hash32(h, key.charCodeAt(i))
    png = makePng(width, height, [64 + (h & 0x7f), 64 + ((h >>> 8) & 0x7f), 64 + ((h >>> 16) & 0x7f)])
    if (cache.size > 512) cache.clear()
    cache.set(cacheKey, png)
  }
  return png
}

function pngReply(body: Buffer): Reply {
  return { status: 200, contentType: 'image/png', body, items: 0, headers: { 'Cache-Control': 'max-age=86400' } }
}

/** Posters (2:3) for thumbs, 16:9 for art; the same item always gets the same picture. */
export function metadataImage(ctx: RequestContext): Reply {
  const kind = ctx.params.kind ?? 'thumb'
  const id = ctx.params.id ?? '0'
  return pngReply(kind === 'art' ? imageFor(`art:${id}`, 32, 18) : imageFor(`thumb:${id}`, 20, 30))
}

export function resourceImage(ctx: RequestContext): Reply {
  return pngReply(imageFor(`resource:${ctx.params.name ?? ''}`, 16, 16))
}

/** plex.tv-style avatar (`/users/{hash}/avatar`), so an image proxy can be tested offline. */
export function avatarImage(ctx: RequestContext): Reply {
  return pngReply(imageFor(`avatar:${ctx.params.hash ?? ''}`, 24, 24))
}
