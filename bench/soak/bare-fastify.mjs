/* global console */
// The soak bench's baseline: a bare Fastify process serving one JSON route, run with plain node
// (no tsx) like the built service, so their idle memory compares.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/api/health', async () => ({ status: 'healthy' }))
await app.listen({ host: '127.0.0.1', port: 0 })
console.log(`listening on http://127.0.0.1:${app.server.address().port}`)
