// Child process of the hit-path comparison: a bare route that answers the bytes and headers the
// service answered for `/api/plex/sessions`, with no cache, hooks or logger: the floor a cache
// hit through the service is measured against. `fastify` (default): one Fastify route;
// `node-http`: plain node:http, no framework at all.
// Usage: node --import tsx bench/api/bare-server.ts <file with {"body", "headers"}> [fastify|node-http]
import Fastify from 'fastify'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const file = process.argv[2]
const kind = process.argv[3] ?? 'fastify'
if (file === undefined || (kind !== 'fastify' && kind !== 'node-http'))
  throw new Error('usage: _api-bare-server.ts <answer.json> [fastify|node-http]')
const answer = JSON.parse(readFileSync(file, 'utf8')) as { body: string; headers: Record<string, string> }

let server: http.Server
let close: () => Promise<unknown>
if (kind === 'fastify') {
  const app = Fastify({ logger: false })
  app.get('/api/plex/sessions', (_request, reply) => {
    reply.headers(answer.headers)
    return reply.send(answer.body)
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  server = app.server
  close = () => app.close()
} else {
  const length = String(Buffer.byteLength(answer.body))
  server = http.createServer((request, response) => {
    if (request.url !== '/api/plex/sessions') return void response.writeHead(404).end()
    response.writeHead(200, { ...answer.headers, 'content-length': length })
    response.end(answer.body)
  })
  server.keepAliveTimeout = 72_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  close = () => new Promise((resolve) => server.close(resolve))
}
console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
process.on('SIGTERM', () => void close().then(() => process.exit(0)))
