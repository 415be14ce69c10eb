import type { FastifyInstance, onResponseHookHandler } from 'fastify'
import { Histogram, type Registry } from 'prom-client'

/** Seconds; a hit answers in well under a millisecond, a cold Plex load in seconds. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

/**
 * `http_request_duration_seconds{method,route,status_class}`, `route` being the pattern a route
 * was registered with (`/api/services/:id`), never the URL asked for. Each route gets its own
 * onResponse hook with its label children bound when the route is added, so a request costs one
 * bucket increment and no label lookup. Install before the routes; unmatched paths are not timed.
 */
export function installHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests by method, route pattern and status class.',
    labelNames: ['method', 'route', 'status_class'],
    buckets: HTTP_BUCKETS,
    registers: [registry],
  })
  app.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? route.method.join(',') : String(route.method)
    const children = STATUS_CLASSES.map((statusClass) => duration.labels(method, route.url, statusClass))
    const observe: onResponseHookHandler = (_request, reply, done) => {
      children[Math.min(4, Math.max(0, Math.floor(reply.statusCode / 100) - 1))]!.observe(reply.elapsedTime / 1000)
      done()
    }
    const existing = route.onResponse
    route.onResponse = existing === undefined ? [observe] : [...(Array.isArray(existing) ? existing : [existing]), observe]
  })
}
