// Child process of the hit-path comparison: a bare Fastify route that answers the bytes and
// headers the service answered for `/api/plex/sessions`, with no cache, hooks or logger:
// the floor a cache hit through the service is measured against.
// Usage: node --import tsx bench/api/bare-server.ts <file with {"body", "headers"}>
import Fastify from 'fastify'
import { readFileSync } from 'node:fs'

const file = process.argv[2]
if (file === undefined) throw new Error('usage: bench/api/bare-server.ts <answer.json>')
const answer = JSON.parse(readFileSync(file, 'utf8')) as { body: string; headers: Record<string, string> }

const app = Fastify({ logger: false })
app.get('/api/plex/sessions', (_request, reply) => {
  reply.headers(answer.headers)
  return reply.send(answer.body)
})
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
