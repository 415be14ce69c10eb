// "Plex" servers on loopback that attack the client through their replies: endless bodies, lying
// Content-Length, compression bombs, huge and deeply nested documents. Real sockets, no mocks.
import http, { type ServerResponse } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { gzipSync } from 'node:zlib'

export interface HostileServer {
  readonly url: string
  close(): Promise<void>
}

export type Attack = 'endless' | 'slow-endless' | 'gzip-bomb' | { body: string; contentType: string }

/** An HTTP server answering every request with `attack`. */
export async function startHostilePlex(attack: Attack): Promise<HostileServer> {
  const server = http.createServer((_req, res) => answer(res, attack))
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

function answer(res: ServerResponse, attack: Attack): void {
  if (typeof attack === 'object') {
    res.writeHead(200, { 'Content-Type': attack.contentType, 'Content-Length': Buffer.byteLength(attack.body) })
    res.end(attack.body)
    return
  }
  if (attack === 'slow-endless') {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.write('{"MediaContainer":{"x":"')
    const timer = setInterval(() => res.write('a'.repeat(1024)), 5)
    res.on('close', () => clearInterval(timer))
    return
  }
  const chunk = attack === 'gzip-bomb' ? GZIP_MEMBER : Buffer.alloc(64 * 1024, 0x61)
  res.writeHead(
    200,
    attack === 'gzip-bomb'
      ? { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }
      : { 'Content-Type': 'application/json' },
  )
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
  }
  res.on('drain', pump)
  pump()
}

// gzip members concatenate into one valid stream: 8 KiB on the wire inflate to 8 MiB each.
const GZIP_MEMBER = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20), { level: 9 })

/** A raw TCP "HTTP server" declaring a Content-Length of 1 TiB, then trickling bytes. */
export async function startContentLengthLiar(): Promise<HostileServer> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('data', () => {
      socket.write(
        'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1099511627776\r\n\r\n{"MediaContainer":{',
      )
      const timer = setInterval(() => socket.write(' '), 20)
      socket.on('close', () => {
        clearInterval(timer)
        sockets.delete(socket)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A `GET /` reply of about `megabytes` MB of PMS-like XML: the server, then many items. */
export function largeXml(megabytes: number): { xml: string; items: number } {
  const item = (i: number) =>
    `<Video ratingKey="${i}" key="/library/metadata/${i}" type="movie" title="Movie number ${i}" summary="A summary of movie ${i}, long enough to look like a real one" year="2001" duration="7200000"><Media id="${i}" duration="7200000"><Part id="${i}" file="/movies/m${i}.mkv" size="12345678"/></Media><Genre tag="Drama"/></Video>`
  const items = Math.ceil((megabytes * 1e6) / item(100_000).length)
  const body = Array.from({ length: items }, (_, i) => item(i)).join('')
  return {
    xml: `<?xml version="1.0" encoding="UTF-8"?><MediaContainer size="${items}" friendlyName="Huge" machineIdentifier="m1" version="1.40.0">${body}</MediaContainer>`,
    items,
  }
}

/** `levels` nested arrays: 3.8 MB for 1.9 million levels. */
export function deepJson(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels)
}

/** Runs `work` while sampling the event-loop delay and the RSS; resolves their maxima. */
export async function measured<T>(
  work: () => Promise<T>,
): Promise<{ result: T | Error; maxDelayMs: number; rssGrowthMb: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 })
  const rssBefore = process.memoryUsage.rss()
  let rssPeak = rssBefore
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 5)
  histogram.enable()
  let result: T | Error
  try {
    result = await work()
  } catch (error) {
    result = error as Error
  }
  histogram.disable()
  clearInterval(sampler)
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss())
  return { result, maxDelayMs: histogram.max / 1e6, rssGrowthMb: (rssPeak - rssBefore) / 1e6 }
}
