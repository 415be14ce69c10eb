// A download far larger than memory through the mirror: a PMS stand-in that generates the bytes
// as they are read (never held), and a client that counts them while the mirror's RSS is sampled.
import { createServer, get, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { rssOf } from './service.js'

export const GiB = 1024 * 1024 * 1024
export const BIG_BODY_PATH = '/library/parts/1/1/file.mkv'
const CHUNK = Buffer.alloc(256 * 1024, 0x61)

/** Serves `bytes` (or `?bytes=N`) at BIG_BODY_PATH to `token`, written as the socket drains. */
export async function startBigBodyPms(bytes: number, token: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.headers['x-plex-token'] !== token) return void res.writeHead(401).end()
    if (!req.url!.startsWith(BIG_BODY_PATH)) return void res.writeHead(404).end()
    const asked = Number(new URLSearchParams(req.url!.split('?')[1]).get('bytes') ?? bytes)
    res.writeHead(200, { 'content-type': 'video/x-matroska', 'content-length': asked })
    let left = asked
    const write = (): void => {
      while (left > 0) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left)
        left -= chunk.length
        if (!res.write(chunk)) return void res.once('drain', write)
      }
      res.end()
    }
    write()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface BigBodyRun {
  readonly bytes: number
  readonly seconds: number
  /** RSS of `pid` before the download, and the highest seen during it (every 50 ms). */
  readonly rssBefore: number
  readonly rssPeak: number
}

/** Downloads `url` (counting, not keeping, the bytes) while sampling the RSS of `pid`. */
export async function download(url: string, token: string, pid: number | undefined): Promise<BigBodyRun> {
  const rssBefore = pid === undefined ? 0 : rssOf(pid)
  let rssPeak = rssBefore
  const sampler = setInterval(() => {
    if (pid !== undefined) rssPeak = Math.max(rssPeak, rssOf(pid))
  }, 50)
  const started = performance.now()
  try {
    const bytes = await new Promise<number>((resolve, reject) => {
      get(url, { headers: { 'X-Plex-Token': token } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume()
          return reject(new Error(`${url} answered ${res.statusCode}`))
        }
        let total = 0
        res.on('data', (chunk: Buffer) => (total += chunk.length))
        res.on('end', () => resolve(total))
        res.on('error', reject)
      }).on('error', reject)
    })
    return { bytes, seconds: (performance.now() - started) / 1000, rssBefore, rssPeak }
  } finally {
    clearInterval(sampler)
  }
}
