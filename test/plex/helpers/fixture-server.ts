// A real HTTP server on 127.0.0.1:0 whose answers a test writes by hand, for the Plex behaviours the
// simulator and the recordings cannot show (servers that ignore paging, malformed fields, redirects).
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SeenRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
}

export interface FixtureServer {
  url: string
  port: number
  server: http.Server
  seen: SeenRequest[]
  close(): Promise<void>
}

export async function startFixtureServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<FixtureServer> {
  const seen: SeenRequest[] = []
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

/** Paging headers of a request, as numbers (undefined when absent). */
export function paging(req: IncomingMessage): { start?: number; size?: number } {
  const start = req.headers['x-plex-container-start']
  const size = req.headers['x-plex-container-size']
  return { start: start === undefined ? undefined : Number(start), size: size === undefined ? undefined : Number(size) }
}
